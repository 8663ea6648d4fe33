"""Loyalty's nightly work, sent by Celery beat (schedule in crm/settings.py).

Thin: each task calls its service, which batches its own transactions.
"""

from celery import shared_task

from . import services
from .services.catalogue import recalculate_tiers_task

__all__ = ["recalculate_tiers_task"]  # defined beside its queue


@shared_task
def expire_points_task() -> int:
    """Expire the lots whose day has come; returns the points expired."""
    return services.expire_points()


@shared_task
def grant_birthday_bonuses_task() -> int:
    """Give today's birthday members their bonus (once a year each)."""
    return services.grant_birthday_bonuses()
