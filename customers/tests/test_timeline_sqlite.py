"""The timeline on SQLite, the database a fresh `make run` uses by default.

The timeline runs hand-wrapped SQL around its baked UNION (customers.baked);
this runs test_timeline.py and test_baked.py once more on a SQLite file, so that
SQL is checked on both databases.
"""

from tests.sqlite import assert_passed, run_on_sqlite


def test_the_timeline_holds_on_sqlite(tmp_path):
    assert_passed(
        run_on_sqlite(
            tmp_path,
            "customers/tests/test_timeline.py",
            "customers/tests/test_baked.py",
        )
    )
