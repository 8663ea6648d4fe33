import pytest
from django.db.models import F

from customers.baked import BakedQuery
from customers.models import Customer, Interaction

from .factories import CustomerFactory


def interactions_of(customer_id: int):
    return (
        Interaction.objects.filter(customer_id=customer_id)
        .annotate(by_name=F("by__username"))
        .order_by("-occurred_at", "-pk")
        .values_list("pk", "subject", "occurred_at", "by_name")
    )


@pytest.mark.django_db
def test_a_baked_query_gives_each_key_what_the_queryset_gives(django_user_model):
    user = django_user_model.objects.create(username="sam")
    first, second, empty = CustomerFactory(), CustomerFactory(), CustomerFactory()
    for customer, subjects in ((first, ["a", "b", "c"]), (second, ["d"])):
        for subject in subjects:
            Interaction.objects.create(customer=customer, subject=subject, by=user)
    baked = BakedQuery(interactions_of, "test-interactions")
    for customer in (first, second, empty, first):
        assert baked.rows(customer.pk) == list(interactions_of(customer.pk))
        assert baked.count(customer.pk) == interactions_of(customer.pk).count()
    assert [row[1] for row in baked.rows(second.pk)] == ["d"]
    # Converted as Django converts: aware datetimes on every database.
    assert baked.rows(second.pk)[0][2].tzinfo is not None
    limited = baked.rows(first.pk, wrap="{sql} LIMIT %s", extra=[2])
    assert limited == list(interactions_of(first.pk)[:2])


@pytest.mark.django_db
def test_a_queryset_without_the_key_cannot_be_baked():
    baked = BakedQuery(lambda pk: Customer.objects.values_list("pk"), "test-no-key")
    with pytest.raises(ValueError, match="not among the parameters"):
        baked.rows(1)


@pytest.mark.django_db
def test_baked_instances_are_what_the_queryset_gives(django_user_model):
    owner = django_user_model.objects.create(username="olga")
    kept = CustomerFactory(owner=owner, first_name="Ada")
    CustomerFactory(owner=None)

    def with_owner(pk: int):
        return Customer.objects.select_related("owner").filter(pk=pk)

    baked = BakedQuery(with_owner, "test-instances")
    (customer,) = baked.instances(kept.pk)
    assert customer == kept and customer.first_name == "Ada"
    assert customer.owner.username == "olga"  # selected with it: no query
    assert customer._state.db == "default" and not customer._state.adding
    assert baked.instances(-1) == []
    partial = BakedQuery(
        lambda pk: Customer.objects.only("pk", "last_name").filter(pk=pk), "test-only"
    )
    (deferred,) = partial.instances(kept.pk)
    assert deferred.get_deferred_fields() >= {"first_name", "email"}


@pytest.mark.django_db
def test_a_keyless_baked_query_reads_the_table_each_time():
    names = BakedQuery(
        lambda: Customer.objects.order_by("pk").values_list("first_name"),
        "test-keyless",
        keyed=False,
    )
    assert names.rows() == []
    CustomerFactory(first_name="Bo")
    assert names.rows() == [("Bo",)]
    assert names.count() == 1
