""".env.example lists every environment variable crm/settings.py reads, and
nothing it does not."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LISTED = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)


def variables_read_by_settings() -> set[str]:
    """The first argument of every env(...), env.int(...), env.db(...) call."""
    tree = ast.parse((ROOT / "crm" / "settings.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        function = ast.unparse(node.func)
        first = node.args[0]
        if (function == "env" or function.startswith("env.")) and isinstance(
            first, ast.Constant
        ):
            names.add(first.value)
    return names


def test_every_variable_the_settings_read_is_in_env_example():
    read = variables_read_by_settings()
    listed = set(LISTED.findall((ROOT / ".env.example").read_text()))
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY"} <= read  # the scan works
    assert sorted(read - listed) == [], "missing from .env.example"
    assert sorted(listed - read) == [], "in .env.example but never read"


def test_env_example_sets_only_debug_for_make_run():
    # Everything else is commented out: the defaults hold until someone chooses.
    active = re.findall(
        r"^([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.M
    )
    assert active == ["DEBUG"]
