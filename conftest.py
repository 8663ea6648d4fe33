import importlib

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from customers.roles import OWNER, STAFF
from customers.tests.factories import UserFactory


@pytest.fixture
def roles(db):
    """The Staff and Owner groups, with their permissions, of the data migrations.

    A transactional test (transaction=True) empties every table when it ends, the
    migration's groups included; put them back the way the migration makes them.
    """
    if Group.objects.filter(name__in=[STAFF, OWNER]).count() != 2:
        apps = MigrationLoader(connection).project_state().apps
        for name, function in (
            ("customers.migrations.0002_roles_and_postgres_rules", "make_groups"),
            ("crm.migrations.0009_owner_admin_permissions", "grant"),
        ):
            getattr(importlib.import_module(name), function)(apps, None)


@pytest.fixture
def staff_user(roles):
    user = UserFactory(username="sam")
    user.groups.add(Group.objects.get(name=STAFF))
    return user


@pytest.fixture
def other_staff_user(roles):
    user = UserFactory(username="alex")
    user.groups.add(Group.objects.get(name=STAFF))
    return user


@pytest.fixture
def owner_user(roles):
    user = UserFactory(username="olive")
    user.groups.add(Group.objects.get(name=OWNER))
    return user


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def owner_client(client, owner_user):
    client.force_login(owner_user)
    return client
