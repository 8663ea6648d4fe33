"""Fixtures for the REST API tests: real tokens for users in each role."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from crm.api.services import create_api_token, revoke_api_token
from customers.roles import STAFF
from customers.tests.factories import CustomerFactory, UserFactory


def bearer(secret: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def staff_token(staff_user) -> str:
    return create_api_token(user=staff_user, name="Shop (staff)")[1]


@pytest.fixture
def owner_token(owner_user) -> str:
    return create_api_token(user=owner_user, name="Shop (owner)")[1]


@pytest.fixture
def no_group_token(roles) -> str:
    return create_api_token(user=UserFactory(username="nobody"), name="Stray")[1]


@pytest.fixture
def inactive_token(roles) -> str:
    user = UserFactory(username="gone")
    user.groups.add(Group.objects.get(name=STAFF))
    secret = create_api_token(user=user, name="Old till")[1]
    user.is_active = False
    user.save(update_fields=["is_active"])
    return secret


@pytest.fixture
def revoked_token(owner_user) -> str:
    token, secret = create_api_token(user=owner_user, name="Retired shop")
    revoke_api_token(token=token, by=owner_user)
    return secret


@pytest.fixture
def staff_api(api_client, staff_token) -> APIClient:
    """An API client sending a Staff member's token with every request."""
    api_client.credentials(**bearer(staff_token))
    return api_client


@pytest.fixture
def customer(db):
    return CustomerFactory(first_name="Zoë", last_name="Martin")
