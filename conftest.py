import pytest
from django.contrib.auth.models import Group

from customers.roles import OWNER, STAFF
from customers.tests.factories import UserFactory


@pytest.fixture
def staff_user(db):
    user = UserFactory(username="sam")
    user.groups.add(Group.objects.get(name=STAFF))
    return user


@pytest.fixture
def other_staff_user(db):
    user = UserFactory(username="alex")
    user.groups.add(Group.objects.get(name=STAFF))
    return user


@pytest.fixture
def owner_user(db):
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
