"""Escaping is Django's: every way around it in the project's code is reviewed.

Templates escape what they print; ``mark_safe`` (or building a ``SafeString``)
turns that off for one value, and ``format_html`` given an f-string escapes
nothing. In the project's Python (not its tests) each ``mark_safe`` and
``SafeString(...)`` must say why it is safe in a comment starting
``# reviewed:``, on its line or in the comment lines right above it;
``format_html`` never takes an f-string; and no template turns escaping off
(``|safe``, ``|safeseq``, ``{% autoescape off %}``).
"""

from __future__ import annotations

import io
import os
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Not the project's code (the virtualenv, caches), or test code.
SKIPPED_FOLDERS = {
    ".git",
    ".venv",
    "venv",
    "node_modules",
    "staticfiles",
    "__pycache__",
    ".ruff_cache",
    ".pytest_cache",
    "tests",
}
UNSAFE_NAMES = {"mark_safe", "SafeString", "SafeText"}
REVIEWED = re.compile(r"#\s*reviewed:", re.IGNORECASE)
UNESCAPED_TEMPLATE = re.compile(r"\|\s*safe(seq)?\b|{%\s*autoescape\s+off\s*%}")


def project_files(suffix: str) -> Iterator[Path]:
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = sorted(d for d in subfolders if d not in SKIPPED_FOLDERS)
        for name in sorted(files):
            if name.endswith(suffix):
                yield Path(folder) / name


def _is_reviewed(lines: list[str], number: int) -> bool:
    """A "# reviewed:" comment on line ``number`` (1-based) or right above it."""
    if REVIEWED.search(lines[number - 1]):
        return True
    above = number - 2
    while above >= 0 and lines[above].lstrip().startswith("#"):
        if REVIEWED.search(lines[above]):
            return True
        above -= 1
    return False


def unreviewed_uses(source: str) -> list[tuple[int, str]]:
    """(line number, line) of each unreviewed way around escaping in ``source``.

    Read with tokenize, so names in strings, docstrings and comments do not
    count; an import of mark_safe is not a use, an import under another name is.
    """
    lines = source.splitlines()
    found = []
    tokens = [
        t
        for t in tokenize.generate_tokens(io.StringIO(source).readline)
        if t.type not in (tokenize.NL, tokenize.COMMENT)
    ]
    in_import = False
    for i, token in enumerate(tokens):
        if token.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
            in_import = False
            continue
        if token.type == tokenize.NAME and token.string in ("import", "from"):
            previous = tokens[i - 1] if i else None
            if previous is None or previous.type in (
                tokenize.NEWLINE,
                tokenize.INDENT,
                tokenize.DEDENT,
            ):
                in_import = True
        if token.type != tokenize.NAME:
            continue
        after = tokens[i + 1] if i + 1 < len(tokens) else None
        number = token.start[0]
        if in_import:
            # "import mark_safe as x" would hide the calls from this scan.
            aliased = after is not None and after.string == "as"
            if token.string in UNSAFE_NAMES and aliased:
                found.append((number, lines[number - 1].strip()))
            continue
        called = after is not None and after.string == "("
        unsafe = token.string == "mark_safe" or (
            token.string in UNSAFE_NAMES and called
        )
        if unsafe and not _is_reviewed(lines, number):
            found.append((number, lines[number - 1].strip()))
        if token.string == "format_html" and called:
            argument = tokens[i + 2] if i + 2 < len(tokens) else None
            if argument is not None and _is_f_string(argument):
                found.append((number, lines[number - 1].strip()))
    return found


def _is_f_string(token: tokenize.TokenInfo) -> bool:
    if token.type == getattr(tokenize, "FSTRING_START", None):  # Python 3.12+
        return True
    if token.type != tokenize.STRING:
        return False
    prefix = re.match(r"[A-Za-z]*", token.string).group(0)
    return "f" in prefix.lower()


def test_every_mark_safe_in_the_code_is_reviewed():
    unreviewed = []
    for path in project_files(".py"):
        for number, line in unreviewed_uses(path.read_text(encoding="utf-8")):
            unreviewed.append(f"{path.relative_to(ROOT)}:{number}: {line}")
    assert unreviewed == [], (
        "Draw HTML with a template or format_html; where mark_safe is the only "
        "way, say why it is safe in a '# reviewed:' comment above it."
    )


def test_no_template_turns_escaping_off():
    found = []
    for path in project_files(".html"):
        text = path.read_text(encoding="utf-8")
        for match in UNESCAPED_TEMPLATE.finditer(text):
            number = text.count("\n", 0, match.start()) + 1
            found.append(f"{path.relative_to(ROOT)}:{number}: {match.group(0)}")
    assert found == []


def test_the_scan_finds_unreviewed_uses_and_passes_reviewed_ones():
    """The scan itself: it must be able to fail."""
    source = '''
from django.utils.safestring import SafeString, mark_safe
from django.utils.safestring import mark_safe as ms
from django.utils.html import format_html

"""mark_safe( in a docstring is not a call."""
text = "mark_safe(x)"  # nor in a string


def bad(name):
    return mark_safe(f"<b>{name}</b>")


def also_bad(name):
    html = SafeString("<b>" + name)
    return format_html(f"<b>{name}</b>")


def passed_along(values):
    return map(mark_safe, values)


def good(svg) -> SafeString:
    # reviewed: drawn by a library from numbers only.
    return mark_safe(svg)


def good_inline(svg):
    return mark_safe(svg)  # reviewed: numbers only


def fine(name):
    return format_html("<b>{}</b>", name)
'''
    found = [number for number, _ in unreviewed_uses(source)]
    lines = source.splitlines()
    assert [lines[n - 1].strip() for n in found] == [
        "from django.utils.safestring import mark_safe as ms",
        'return mark_safe(f"<b>{name}</b>")',
        'html = SafeString("<b>" + name)',
        'return format_html(f"<b>{name}</b>")',
        "return map(mark_safe, values)",
    ]


def test_the_template_scan_finds_escaping_turned_off():
    for text in ("{{ x|safe }}", "{{ x | safeseq }}", "{% autoescape off %}"):
        assert UNESCAPED_TEMPLATE.search(text)
    assert not UNESCAPED_TEMPLATE.search("{{ x|safe_name }} {% autoescape on %}")
