import pytest

from customers.tests.factories import CustomerFactory

from .factories import run_program


@pytest.fixture
def program(db):
    return run_program()


@pytest.fixture
def customer(db):
    return CustomerFactory()
