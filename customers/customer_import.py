"""The customers CSV format: blank cells leave the CRM's data as it is.

A row matching a customer (by reference, then email) changes only the fields
whose cells hold something different from what is stored: a blank cell means
"unchanged" for every column, consent changes only on an explicit true/false,
and a tags cell adds its tags unless the import replaces tags (then the cell
is the whole list, and a blank cell removes them all). Differences of form only
(an email's letter case, tag order or case, "TRUE" for "true") are no change.
Each updated row's changes are listed for the preview, old → new.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from . import services
from .csv_input import RowError, parse_bool, parse_date, parse_moment
from .import_rules import CUSTOMER_COLUMNS, CUSTOMER_IGNORED, find_customer
from .imports import Importer
from .models import Customer, Tag
from .models.customer import CREATED_IN_FUTURE_MESSAGE, FUTURE_TOLERANCE

TEXT_FIELDS = ("reference", "first_name", "last_name", "email", "phone")
LABELS = {
    "reference": "reference",
    "first_name": "first name",
    "last_name": "last name",
    "email": "email",
    "phone": "phone",
    "birthday": "birthday",
    "email_opt_in": "email consent",
    "sms_opt_in": "SMS consent",
    "created_at": "created",
}


def described(value: Any) -> str:
    """A value as the preview shows it."""
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def tag_names(tags: list[Tag]) -> str:
    return ", ".join(sorted((t.name for t in tags), key=str.casefold)) or "none"


def same(name: str, stored: Any, value: Any) -> bool:
    if name == "email":
        return stored.casefold() == value.casefold()
    return stored == value


class CustomerImporter(Importer):
    columns = CUSTOMER_COLUMNS
    ignored = CUSTOMER_IGNORED

    def __init__(self, *, replace_tags: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.replace_tags = replace_tags

    def required(self, header: set[str]) -> str | None:
        if not header & {"reference", "email"}:
            return "a customers file needs a reference or an email column."
        return None

    def who(self, row: dict[str, str]) -> str:
        return row.get("reference") or row.get("email", "")

    def fields(self, row: dict[str, str]) -> dict[str, Any]:
        """The row's non-blank cells, parsed: the fields it sets."""
        fields: dict[str, Any] = {
            name: row[name] for name in TEXT_FIELDS if row.get(name)
        }
        if "email" in fields:
            try:
                validate_email(fields["email"])
            except ValidationError:
                raise RowError(
                    "email", fields["email"], "Enter a valid email address."
                ) from None
        if row.get("birthday"):
            fields["birthday"] = parse_date("birthday", row["birthday"])
        for name in ("email_opt_in", "sms_opt_in"):
            if row.get(name):
                fields[name] = parse_bool(name, row[name])
        if row.get("created_at"):
            created_at = parse_moment("created_at", row["created_at"])
            if created_at > timezone.now() + FUTURE_TOLERANCE:
                raise RowError(
                    "created_at", row["created_at"], CREATED_IN_FUTURE_MESSAGE
                )
            fields["created_at"] = created_at
        return fields

    def apply(self, row: dict[str, str]) -> str:
        reference, email = row.get("reference", ""), row.get("email", "")
        if not reference and not email:
            raise RowError("reference", "", "Give a reference or an email.")
        fields = self.fields(row)
        tags = None
        if row.get("tags") or (self.replace_tags and "tags" in row):
            tags = self.tags(row["tags"])

        existing = find_customer(reference=reference, email=email)
        if existing is None:
            services.create_customer(
                by=self.by, tags=tags or (), consent_source="import", **fields
            )
            return "created"
        changed = {
            name: value
            for name, value in fields.items()
            if not same(name, getattr(existing, name), value)
        }
        self.changes = [
            f"{LABELS[name]}: {described(getattr(existing, name))} → {described(value)}"
            for name, value in changed.items()
        ]
        new_tags = self.new_tags(existing, tags)
        if not changed and new_tags is None:
            return "unchanged"
        services.update_customer(
            customer=existing,
            by=self.by,
            tags=new_tags,
            consent_source="import",
            **changed,
        )
        return "updated"

    def new_tags(self, customer: Customer, tags: list[Tag] | None) -> list[Tag] | None:
        """The customer's tags after the row, or None when they stay as they are."""
        if tags is None:
            return None
        current = list(customer.tags.all())
        if self.replace_tags:
            wanted = tags
        else:
            wanted = current + [t for t in tags if t not in current]
        if {t.pk for t in wanted} == {t.pk for t in current}:
            return None
        self.changes.append(f"tags: {tag_names(current)} → {tag_names(wanted)}")
        return wanted

    def tags(self, cell: str) -> list[Tag]:
        """The cell's tags (found in any letter case, else created), each once."""
        field = Tag._meta.get_field("name")
        found: dict[int, Tag] = {}
        for name in (part.strip() for part in cell.split(";")):
            if not name:
                continue
            try:
                field.clean(name, None)
            except ValidationError as error:
                raise RowError("tags", name, " ".join(error.messages)) from None
            tag = Tag.objects.filter(name__iexact=name).first()
            if tag is None:
                tag = services.create_tag(name=name)
            found.setdefault(tag.pk, tag)
        return list(found.values())
