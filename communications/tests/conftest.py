import pytest
from django.utils import timezone

from communications.models import FrequencyPolicy


@pytest.fixture
def no_quiet_hours(db):
    """For tests on the real clock, which may fall in the default quiet hours."""
    midnight = timezone.datetime(2000, 1, 1).time()
    return FrequencyPolicy.objects.create(
        pk=1, quiet_start=midnight, quiet_end=midnight
    )
