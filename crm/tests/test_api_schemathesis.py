"""Schemathesis fuzzes every operation of the served OpenAPI schema, in process
through the real WSGI application, with a real token: no input, valid or not,
may cause a server error (5xx).

schemathesis's lazy pytest loader (from_fixture) does not run under pytest 9,
and the schema can only be fetched once the test database exists, so each
operation's Hypothesis strategy is driven here with @given.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from crm.api.services import create_api_token
from crm.wsgi import application
from customers import services
from customers.tests.factories import CustomerFactory, TagFactory

pytestmark = pytest.mark.django_db

OPERATIONS = [
    ("GET", "/api/v1/customers/"),
    ("POST", "/api/v1/customers/"),
    ("GET", "/api/v1/customers/{id}/"),
    ("PUT", "/api/v1/customers/{id}/"),
    ("PATCH", "/api/v1/customers/{id}/"),
    ("GET", "/api/v1/customers/{customer_pk}/purchases/"),
    ("POST", "/api/v1/customers/{customer_pk}/purchases/"),
    ("GET", "/api/v1/customers/{customer_pk}/interactions/"),
    ("POST", "/api/v1/customers/{customer_pk}/interactions/"),
    ("POST", "/api/v1/customers/{customer_pk}/feedback/"),
]
EXAMPLES_PER_OPERATION = 25


@pytest.fixture
def keep_test_connection():
    """Call the real WSGI application without it closing the test's connection.

    At the end of each request Django closes a connection that is inside a
    transaction, and the test's data lives in one; Django's test client unhooks
    the same handlers.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzzing(settings, owner_user, keep_test_connection):
    """The schema as the API serves it, a token, and rows for the paths to name."""
    # schemathesis's in-process client sends "Host: localhost".
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]
    secret = create_api_token(user=owner_user, name="Fuzzer")[1]
    headers = {"Authorization": f"Bearer {secret}"}
    schema = schemathesis.openapi.from_wsgi(
        "/api/v1/schema/?format=json", application, headers=headers
    )
    customer = CustomerFactory(reference="C-1")
    TagFactory(name="vip")
    services.record_purchase(
        customer=customer, amount="10.00", occurred_at=customer.created_at
    )
    return schema, headers, customer


def test_the_fuzzed_operations_are_all_of_the_schema(fuzzing):
    schema = fuzzing[0]
    served = {
        (operation.method.upper(), operation.path)
        for operation in (result.ok() for result in schema.get_all_operations())
    }
    assert served == set(OPERATIONS)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(
    "method, path", OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS]
)
def test_no_input_causes_a_server_error(fuzzing, method, path, mode):
    schema, headers, customer = fuzzing
    operation = schema[path][method]
    # The customer in the path exists, so bodies reach the services; unknown
    # ids are covered by the endpoint tests.
    path_parameters = {
        name: customer.pk for name in ("id", "customer_pk") if "{" + name in path
    }
    strategy = operation.as_strategy(mode, path_parameters=path_parameters)

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def fuzz(case):
        response = case.call(headers=headers)
        case.validate_response(response, checks=[not_a_server_error])

    fuzz()
