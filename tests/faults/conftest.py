import pytest


def pytest_collection_modifyitems(items):
    """Everything under tests/faults/ is a fault test (see the "fault" marker)."""
    for item in items:
        if "/tests/faults/" in str(item.fspath):
            item.add_marker(pytest.mark.fault)
