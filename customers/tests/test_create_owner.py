import re
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from customers.roles import is_owner

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("roles")]


def run(*args: str) -> str:
    out = StringIO()
    call_command("create_owner", *args, stdout=out)
    return out.getvalue()


def test_create_owner_prints_a_working_password_once():
    first = run("--username", "boss")
    password = re.search(r"Password: (\S+)", first).group(1)
    user = authenticate(username="boss", password=password)
    assert user is not None
    assert is_owner(user)
    assert user.is_staff  # the admin is where owners manage staff logins

    second = run("--username", "boss")
    assert "exists already" in second
    assert password not in second
    assert authenticate(username="boss", password=password) is not None


def test_owner_group_may_manage_staff_logins_and_staff_group_may_not():
    from django.contrib.auth.models import Group

    owner = Group.objects.get(name="Owner")
    staff = Group.objects.get(name="Staff")
    assert owner.permissions.filter(codename="add_user").exists()
    assert not staff.permissions.filter(codename="add_user").exists()
    assert staff.permissions.filter(codename="add_purchase").exists()
    assert not staff.permissions.filter(codename="delete_customer").exists()
