"""The timeline on SQLite, the database a fresh `make run` uses by default.

The timeline runs hand-wrapped SQL around its baked UNION (customers.baked);
this runs test_timeline.py and test_baked.py once more in a subprocess whose
DATABASE_URL points at a SQLite file, so that SQL is checked on both databases.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_timeline_holds_on_sqlite(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'timeline.sqlite3'}",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    result = subprocess.run(
        [
            sys.executable, "-m", "pytest", "--create-db", "-q",
            "-p", "no:cacheprovider",
            "customers/tests/test_timeline.py", "customers/tests/test_baked.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout
