"""Celery tasks are named as the origin of the changes they make.

Connected from CrmConfig.ready(). A task run eagerly inside a request keeps the
request's actor; a task in a worker has none of its own (it acts for the
system) unless its code wraps the work in ``acting_as(user)``.
"""

from __future__ import annotations

from celery.signals import task_postrun, task_prerun
from django.db import connection

from customers.audit_actor import ActorWrapper, user_id_of

_running: dict[str, ActorWrapper] = {}


def _enclosing_actor():
    for wrapper in reversed(connection.execute_wrappers):
        if isinstance(wrapper, ActorWrapper):
            return wrapper.actor
    return lambda: user_id_of(None)


@task_prerun.connect(dispatch_uid="crm.audit.task_started")
def task_started(task_id=None, task=None, **kwargs) -> None:
    wrapper = ActorWrapper(_enclosing_actor(), f"task:{getattr(task, 'name', '?')}")
    connection.execute_wrappers.append(wrapper)
    _running[task_id] = wrapper


@task_postrun.connect(dispatch_uid="crm.audit.task_finished")
def task_finished(task_id=None, **kwargs) -> None:
    wrapper = _running.pop(task_id, None)
    if wrapper is not None and wrapper in connection.execute_wrappers:
        connection.execute_wrappers.remove(wrapper)
