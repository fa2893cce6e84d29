"""How hpo writes values, errors and tables for people: one line each, as the files wrote them.

Every message that names a value shows it as it looks in the JSON file (``0.1``, ``"tpe"``,
``[8, 16]``), so that a user can find it there.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from typing import Any

#: Longest error text kept from an exception (a message is one line, not a page).
MAX_ERROR_TEXT = 300


def first_line(exc: BaseException, limit: int = MAX_ERROR_TEXT) -> str:
    """The first line of an exception's message, or its type's name when it has none."""
    text = str(exc).strip()
    return text.splitlines()[0].strip()[:limit] if text else type(exc).__name__


#: Characters that would break a line or a terminal: control characters, Unicode's line and
#: paragraph separators, and lone surrogates (no character at all: not UTF-8 writable).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def is_text(text: str) -> bool:
    """Whether ``text`` can be written as UTF-8: not when it holds a lone surrogate (bytes of a
    command line that are not UTF-8, a JSON escape such as \\ud800 without its pair)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def has_control_characters(text: str) -> bool:
    return _CONTROL.search(text) is not None


def one_line(text: str) -> str:
    """``text`` on one line: each control character written as its JSON escape (``\\n``), so
    that a name holding a line break cannot split an error message in two."""
    return _CONTROL.sub(lambda m: json.dumps(m.group())[1:-1], text)


def show(value: Any) -> str:
    """A value as it would look in the JSON file (numbers without float noise)."""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, Sequence) and not isinstance(value, str):
        return "[" + ", ".join(show(item) for item in value) + "]"
    if isinstance(value, str | bool) or value is None:
        return json.dumps(value)
    return str(value)


def kind(value: Any) -> str:
    """What a JSON value is, in words: "an object", "a list", "a number", …"""
    named = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if type(value) in named:
        return named[type(value)]
    if isinstance(value, int | float):
        return "a number"
    return "null" if value is None else type(value).__name__


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def number(value: float | None) -> str:
    """A metric value for a progress line: 4 significant digits, no trailing zeros."""
    if value is None:
        return "?"
    if not math.isfinite(value):
        return str(value)
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return f"{value:.4g}"
    return f"{value:.4f}".rstrip("0").rstrip(".")


def duration(seconds: float) -> str:
    """``90s``, ``45m``, ``1.5h``, ``3d``: the largest unit that keeps the number readable."""
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    if seconds < 172800:
        return f"{seconds / 3600:.1f}h".replace(".0h", "h")
    return f"{seconds / 86400:.1f}d".replace(".0d", "d")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Aligned columns that read well in a terminal and grep well in a log (None shows "-")."""
    cells = [[str(h) for h in headers], *[[_cell(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value: object) -> str:
    return "-" if value is None else str(value)
