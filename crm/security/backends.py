"""Django's ModelBackend, with the user lookup every request makes baked.

Every page reads the logged-in user by id (AuthenticationMiddleware through
the backend's get_user), and then their role. One query reads both; it is
compiled once per connection and prepared on PostgreSQL (customers.baked)
instead of built on each request.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.db.models import F

from customers.baked import BakedQuery
from customers.roles import remember_groups

# The user, once per group they are in (or once, with None): their role comes
# with them instead of in a query of its own (customers.roles).
USER_BY_ID = BakedQuery(
    lambda pk: (
        get_user_model()
        ._default_manager.filter(pk=pk)
        .annotate(group_name=F("groups__name"))
    ),
    "auth-user-by-id",
)


class BakedModelBackend(ModelBackend):
    def get_user(self, user_id):
        try:
            pk = get_user_model()._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        found = USER_BY_ID.instances(pk)
        if not found:
            return None
        user = found[0]
        remember_groups(user, {row.group_name for row in found if row.group_name})
        return user if self.user_can_authenticate(user) else None
