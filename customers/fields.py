"""Form fields: short lists of choices (tags, staff users), and report days."""

from django import forms
from django.forms.models import ModelChoiceIterator

from .baked import BakedQuery
from .models.customer import validate_report_day


class ReportDateField(forms.DateField):
    """A day a report, a period or a filter is about (1900 to 2999): past that,
    the periods' date arithmetic would overflow."""

    default_validators = [validate_report_day]


class EvaluatedChoiceIterator(ModelChoiceIterator):
    """Reads the choices with one plain query.

    Django's iterator reads them through QuerySet.iterator(), which on PostgreSQL
    opens a server-side cursor (several round trips) and counts them separately:
    wasteful for a list of tags or staff that fits in one small result.
    """

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self._objects():
            yield self.choice(obj)

    def __len__(self) -> int:
        return len(self._objects()) + (1 if self.field.empty_label is not None else 0)

    def _objects(self):
        baked = getattr(self.field, "baked", None)
        if baked is None:
            return self.queryset  # evaluated once, then cached on the queryset
        # Kept on the field, which each form instance has a copy of.
        if getattr(self.field, "_baked_objects", None) is None:
            self.field._baked_objects = baked.instances()
        return self.field._baked_objects


class ShortModelChoiceField(forms.ModelChoiceField):
    """``bake_as="name"``: the choices are read with a baked query (compiled
    once, customers.baked), for a field on a page seen all day. Its queryset
    must then stay the one it was made with."""

    iterator = EvaluatedChoiceIterator

    def __init__(self, queryset, *args, bake_as: str | None = None, **kwargs) -> None:
        super().__init__(queryset, *args, **kwargs)
        self.baked = (
            BakedQuery(lambda: queryset, ("choices", bake_as), keyed=False)
            if bake_as
            else None
        )


class ShortModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    iterator = EvaluatedChoiceIterator
