"""Form fields: short lists of choices (tags, staff users), and report days."""

from django import forms
from django.forms.models import ModelChoiceIterator

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
        return self.queryset  # evaluated once, then cached on the queryset


class ShortModelChoiceField(forms.ModelChoiceField):
    """A choice of one from a short list, read with one plain query."""

    iterator = EvaluatedChoiceIterator


class ShortModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    iterator = EvaluatedChoiceIterator
