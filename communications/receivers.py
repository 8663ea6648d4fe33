"""Reactions to other apps' signals (connected in CommunicationsConfig.ready)."""

from __future__ import annotations

from .models import Message, ProviderEvent


def move_messages(sender, kept, merged, **kwargs) -> None:
    """A merged customer's messages follow them (their caps count together)."""
    Message.objects.filter(customer=merged).update(customer=kept)
    ProviderEvent.objects.filter(customer=merged).update(customer=kept)
