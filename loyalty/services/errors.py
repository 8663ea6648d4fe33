"""Why a loyalty change was refused. Nothing was changed when one is raised.

Each is a ValidationError, so a view's form shows the message beside the field
it names (or at the top), as for the customers' services.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError


class LoyaltyError(ValidationError):
    """A loyalty rule refused the change; `field` names the form field, if any."""

    field: str | None = None

    def __init__(self, message: str) -> None:
        if self.field:
            super().__init__({self.field: [message]})
        else:
            super().__init__(message)
        self.text = message

    def __str__(self) -> str:
        return self.text


class NotAMember(LoyaltyError):
    """The customer has not joined the program."""


class ProgramInactive(LoyaltyError):
    """The program is switched off: nobody joins or earns."""


class InsufficientPoints(LoyaltyError):
    """The balance (what can be spent today) does not cover the points asked for."""

    def __init__(self, *, balance: int, needed: int, spendable: int | None = None):
        self.balance = balance
        self.needed = needed
        self.spendable = balance if spendable is None else spendable
        held = self.balance - self.spendable
        detail = f" ({held} more pending or past expiry)" if held > 0 else ""
        super().__init__(
            f"Not enough points: {self.spendable} can be spent{detail}, "
            f"{needed} are needed."
        )


class RewardUnavailable(LoyaltyError):
    """The reward is switched off."""

    field = "reward"


class RewardSoldOut(RewardUnavailable):
    """The reward's stock is used up."""


class RedemptionAlreadyCancelled(LoyaltyError):
    """The redemption was cancelled before (perhaps by someone else just now)."""
