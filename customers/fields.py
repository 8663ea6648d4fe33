"""Form fields for short lists of choices (tags, staff users)."""

from django import forms
from django.forms.models import ModelChoiceIterator


class EvaluatedChoiceIterator(ModelChoiceIterator):
    """Reads the choices with one plain query.

    Django's iterator reads them through QuerySet.iterator(), which on PostgreSQL
    opens a server-side cursor (several round trips) and counts them separately:
    wasteful for a list of tags or staff that fits in one small result.
    """

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:  # evaluated once, then cached on the queryset
            yield self.choice(obj)

    def __len__(self) -> int:
        return len(self.queryset) + (1 if self.field.empty_label is not None else 0)


class ShortModelChoiceField(forms.ModelChoiceField):
    iterator = EvaluatedChoiceIterator


class ShortModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    iterator = EvaluatedChoiceIterator
