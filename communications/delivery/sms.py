"""A small SMS backend interface, chosen by settings.SMS_BACKEND (a dotted path).

Built in: the console (prints, the default), a file (one JSON line per SMS in
settings.SMS_FILE_PATH) and local memory (tests). A provider's backend subclasses
BaseSmsBackend: ``send`` returns the provider's id and raises
TransientDeliveryError or PermanentDeliveryError; ``lookup`` says whether an
idempotency key was delivered, when the provider can tell.
"""

from __future__ import annotations

import json
import sys
import threading
from abc import ABC, abstractmethod
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from .errors import UNKNOWN


class BaseSmsBackend(ABC):
    @abstractmethod
    def send(self, *, to: str, body: str, idempotency_key: str) -> str:
        """Deliver one SMS; the provider's id for it."""

    def lookup(self, idempotency_key: str):
        """The provider's id if delivered, None if not, UNKNOWN if it cannot tell."""
        return UNKNOWN


class ConsoleSmsBackend(BaseSmsBackend):
    def send(self, *, to: str, body: str, idempotency_key: str) -> str:
        sys.stdout.write(f"SMS to {to} [{idempotency_key}]\n{body}\n{'-' * 40}\n")
        sys.stdout.flush()
        return idempotency_key


class FileSmsBackend(BaseSmsBackend):
    """Appends each SMS as a JSON line; the file is also the record for lookup."""

    _lock = threading.Lock()

    def __init__(self, path: str | None = None) -> None:
        self.path = Path(path or settings.SMS_FILE_PATH)

    def send(self, *, to: str, body: str, idempotency_key: str) -> str:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(
            {
                "id": idempotency_key,
                "to": to,
                "body": body,
                "at": timezone.now().isoformat(),
            }
        )
        with self._lock, self.path.open("a", encoding="utf-8") as stream:
            stream.write(line + "\n")
            stream.flush()
        return idempotency_key

    def lookup(self, idempotency_key: str):
        if not self.path.exists():
            return None
        with self.path.open(encoding="utf-8") as stream:
            for line in stream:
                try:
                    if json.loads(line).get("id") == idempotency_key:
                        return idempotency_key
                except ValueError:
                    continue  # a line cut short by a crash was not delivered
        return None


# What LocmemSmsBackend sent, in this process (tests read and clear it).
outbox: list[dict] = []


class LocmemSmsBackend(BaseSmsBackend):
    def send(self, *, to: str, body: str, idempotency_key: str) -> str:
        outbox.append({"id": idempotency_key, "to": to, "body": body})
        return idempotency_key

    def lookup(self, idempotency_key: str):
        found = any(sms["id"] == idempotency_key for sms in outbox)
        return idempotency_key if found else None


def get_sms_backend() -> BaseSmsBackend:
    return import_string(settings.SMS_BACKEND)()
