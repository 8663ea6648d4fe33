from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from customers.models import Customer, Feedback, Interaction, Purchase, Tag


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag

    name = factory.Sequence(lambda n: f"tag {n}")


class CustomerFactory(factory.django.DjangoModelFactory):
    """A customer with no history: add purchases through the services."""

    class Meta:
        model = Customer

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    phone = factory.Sequence(lambda n: f"+44 7700 9{n:05d}")


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    customer = factory.SubFactory(CustomerFactory)
    kind = Interaction.Kind.CALL
    subject = factory.Faker("sentence", nb_words=4)
    occurred_at = factory.LazyFunction(timezone.now)


class PurchaseFactory(factory.django.DjangoModelFactory):
    """A bare purchase row; figures are not updated (use record_purchase for that)."""

    class Meta:
        model = Purchase

    customer = factory.SubFactory(CustomerFactory)
    amount = Decimal("25.00")
    currency = "EUR"
    occurred_at = factory.LazyFunction(timezone.now)


class FeedbackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Feedback

    customer = factory.SubFactory(CustomerFactory)
    kind = Feedback.Kind.CSAT
    score = 4
