"""The metrics on SQLite, the database a fresh `make run` uses by default.

The suite runs on PostgreSQL; this runs the hand-worked definitions module
(test_metrics_definitions.py) once more on a SQLite file, so the SQL the
metrics write is checked on both.
"""

from tests.sqlite import assert_passed, run_on_sqlite


def test_the_definitions_hold_on_sqlite(tmp_path):
    assert_passed(run_on_sqlite(tmp_path, "crm/tests/test_metrics_definitions.py"))
