"""Customer lists read light: the rows a list page shows, and their tags."""

from __future__ import annotations

from datetime import tzinfo

from django.utils import timezone

from .customer import LIST_COLUMNS, Customer


def attach_tag_names(customers: list[Customer]) -> list[Customer]:
    """Set `tag_names` on each customer of a page, with one query.

    Lighter than prefetch_related("tags"), which builds a manager and a Tag per
    link: on a 50-row list that Python work costs more than the query.
    """
    names: dict[int, list[str]] = {c.pk: [] for c in customers}
    links = (
        Customer.tags.through.objects.filter(customer_id__in=names)
        .order_by("tag__name")
        .values_list("customer_id", "tag__name")
    )
    for customer_id, name in links:
        names[customer_id].append(name)
    for customer in customers:
        customer.tag_names = names[customer.pk]
    return customers


class ListedCustomer:
    """One row of a customer list: the columns it shows, read with values_list.

    Fifty Customer instances, each with its owner, cost the list page more than
    its queries did; these rows carry the same attribute names the list uses.
    The three days the list shows are written as text ("YYYY-MM-DD" in the
    given time zone, "" for none) as the row is made: through a template filter
    each cost more than any other cell (a time-zone lookup and conversion per
    value), and the template prints them escaped like the rest.
    """

    COLUMNS = tuple(name for name in LIST_COLUMNS if "__" not in name)
    FIELDS = ("pk", *COLUMNS, "owner_id", "owner__username")
    DAYS = {
        "last_purchase_day": "last_purchase_at",
        "last_contact_day": "last_contact_at",
        "created_day": "created_at",
    }
    __slots__ = ("pk", *COLUMNS, "owner_id", "owner_username", "tag_names", *DAYS)

    def __init__(self, row: tuple, zone: tzinfo | None = None) -> None:
        (self.pk, *columns, self.owner_id, self.owner_username) = row
        for name, value in zip(self.COLUMNS, columns, strict=True):
            setattr(self, name, value)
        self.tag_names: list[str] = []
        zone = zone or timezone.get_current_timezone()
        for day, moment in self.DAYS.items():
            value = getattr(self, moment)
            setattr(
                self, day, value.astimezone(zone).strftime("%Y-%m-%d") if value else ""
            )

    full_name = Customer.full_name

    def __repr__(self) -> str:
        return f"<ListedCustomer {self.pk}: {self.full_name}>"
