"""The timeline on SQLite, the database a fresh `make run` uses by default.

The timeline is one UNION ALL of every source's rows, ordered and sliced;
this runs test_timeline.py once more on a SQLite file, so the combined query is
checked on both databases.
"""

from tests.sqlite import assert_passed, run_on_sqlite


def test_the_timeline_holds_on_sqlite(tmp_path):
    assert_passed(
        run_on_sqlite(
            tmp_path,
            "customers/tests/test_timeline.py",
        )
    )
