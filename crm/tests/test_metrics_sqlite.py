"""The metrics on SQLite, the database a fresh `make run` uses by default.

The suite runs on PostgreSQL; this runs the hand-worked definitions module
(test_metrics_definitions.py) once more in a subprocess whose DATABASE_URL
points at a SQLite file, so the SQL the metrics write is checked on both.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_definitions_hold_on_sqlite(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'metrics.sqlite3'}",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    result = subprocess.run(
        [
            sys.executable, "-m", "pytest", "--create-db", "-q",
            "-p", "no:cacheprovider",
            "crm/tests/test_metrics_definitions.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout
