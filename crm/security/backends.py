"""Django's ModelBackend, with the user lookup every request makes baked.

Every page reads the logged-in user by id (AuthenticationMiddleware through
the backend's get_user). The query is compiled once per connection and
prepared on PostgreSQL (customers.baked) instead of built on each request.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError

from customers.baked import BakedQuery

USER_BY_ID = BakedQuery(
    lambda pk: get_user_model()._default_manager.filter(pk=pk), "auth-user-by-id"
)


class BakedModelBackend(ModelBackend):
    def get_user(self, user_id):
        try:
            pk = get_user_model()._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        found = USER_BY_ID.instances(pk)
        user = found[0] if found else None
        return user if user is not None and self.user_can_authenticate(user) else None
