"""YAML files read as their writers expect, YAML 1.2 (NNI's configs are written for it and for
JSON): the data each text gives, and the one-line refusals of what a search-space file cannot
hold. Through the CLI: ``tests/cli/test_bad_files.py``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hpo.errors import SpaceError
from hpo.study.read_file import read_data
from hpo.study.read_yaml import MAX_ALIAS_NODES

#: (what, YAML text, the data it is). YAML 1.1 (PyYAML's) read each of these otherwise.
READ_AS_YAML_1_2: list[tuple[str, str, Any]] = [
    # 1.1's booleans are strings in 1.2: a parameter named "on" was True.
    ("on-yes-no-keys", "on: 1\nyes: 2\nno: 3\noff: 4\n", {"on": 1, "yes": 2, "no": 3, "off": 4}),
    (
        "on-yes-no-values",
        "x: [on, off, yes, no, y, n, true, FALSE, null, ~, '']\ny:\n",
        {"x": ["on", "off", "yes", "no", "y", "n", True, False, None, None, ""], "y": None},
    ),
    # 1.1 wants a dot in a float: "1e-3" was a string, so a loguniform refused it.
    (
        "exponent-floats",
        "x: [1e-3, 1E3, -2.5e+2, .5, 3.]\n",
        {"x": [0.001, 1000.0, -250.0, 0.5, 3.0]},
    ),
    ("integers", "x: [010, 0o17, 0x1F, -7, +3]\n", {"x": [10, 15, 31, -7, 3]}),
    ("sexagesimal-is-text", "x: [1:30, 1_000]\n", {"x": ["1:30", "1_000"]}),
    # A date was a datetime.date, which no JSON encoder stores.
    (
        "dates-are-text",
        "x: [2024-01-01, 2024-01-01T10:00:00]\n",
        {"x": ["2024-01-01", "2024-01-01T10:00:00"]},
    ),
    ("equals-is-text", "x: =\n", {"x": "="}),
    (
        "merge-key",
        "base: &b {_type: uniform, _value: [0, 1]}\nlr:\n  <<: *b\n  _value: [0.1, 0.2]\n",
        {
            "base": {"_type": "uniform", "_value": [0, 1]},
            "lr": {"_type": "uniform", "_value": [0.1, 0.2]},
        },
    ),
    (
        # The first mapping of a merged list wins over the later ones; the mapping's own keys
        # win over every merged one.
        "merge-list-order",
        "a: &a {k: a, x: 1}\nb: &b {k: b, y: 2}\nc:\n  <<: [*a, *b]\n  y: 3\n",
        {"a": {"k": "a", "x": 1}, "b": {"k": "b", "y": 2}, "c": {"k": "a", "x": 1, "y": 3}},
    ),
]


@pytest.mark.parametrize(
    ("text", "data"), [case[1:] for case in READ_AS_YAML_1_2], ids=[c[0] for c in READ_AS_YAML_1_2]
)
def test_yaml_reads_as_yaml_1_2(tmp_path: Path, text: str, data: Any) -> None:
    (tmp_path / "space.yml").write_text(text)
    read = read_data(tmp_path / "space.yml")
    assert read == data
    assert [type(v) for v in _leaves(read)] == [type(v) for v in _leaves(data)]


def _leaves(data: Any) -> list[Any]:
    if isinstance(data, dict):
        return [leaf for _, value in sorted(data.items()) for leaf in _leaves(value)]
    if isinstance(data, list):
        return [leaf for value in data for leaf in _leaves(value)]
    return [data]


def _bomb(levels: int, width: int = 9) -> str:
    """The "billion laughs": each level a list of ``width`` aliases of the one before."""
    lines = ["l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for level in range(1, levels + 1):
        aliases = ", ".join([f"*l{level - 1}"] * width)
        lines.append(f"l{level}: &l{level} [{aliases}]")
    return "\n".join(lines) + "\n"


#: (what, YAML text, what the error says). Each is one SpaceError naming line and column.
REFUSED: list[tuple[str, str, str]] = [
    ("number-key", "x: 1\n3: 2\n", 'a key must be text, got 3: quote it ("3") (line 2, column 1)'),
    ("float-key", "1.5: 2\n", "a key must be text, got 1.5"),
    ("true-key", "true: 2\n", 'a key must be text, got true: quote it ("true")'),
    ("null-key", "~: 2\n", "a key must be text, got null"),
    ("list-key", "? [a]\n: 1\n", "a key must be text, got a list"),
    ("binary", "x: !!binary aGVsbG8=\n", "binary data (!!binary) is not supported"),
    ("timestamp", "x: !!timestamp 2024-01-01\n", "a date (!!timestamp"),
    ("set", "x: !!set {a, b}\n", "a set (!!set"),
    ("omap", "x: !!omap [a: 1]\n", "an ordered mapping (!!omap"),
    ("pairs", "x: !!pairs [a: 1]\n", "a list of pairs (!!pairs"),
    ("int-5000-digits", "x: " + "9" * 5000 + "\n", "the integer of 5000 digits is too large"),
    ("int-beyond-float", "x: 2" + "0" * 308 + "\n", "is too large for a number"),
    ("hex-beyond-float", "x: 0x" + "F" * 300 + "\n", "is too large for a number"),
    ("recursive-alias", "x: &x [1, *x]\n", "an alias refers to a node that contains it"),
    ("recursive-merge", "x: &x {a: 1, <<: *x}\n", "an alias refers to a node that contains it"),
    ("alias-bomb", _bomb(9), f"aliases expand to more than {MAX_ALIAS_NODES:,} nodes"),
    ("merge-bomb", "", f"aliases expand to more than {MAX_ALIAS_NODES:,} nodes"),
    ("merge-scalar", "x: {<<: 3}\n", "a merge key (<<) takes a mapping"),
    ("nul-character", "x: a\x00b\n", "unacceptable character #x0000"),
]


def _merge_bomb(levels: int = 9) -> str:
    """Merge keys that copy the mapping before them twice at each level."""
    lines = ["m0: &m0 {" + ", ".join(f"k{i}: {i}" for i in range(9)) + "}"]
    for level in range(1, levels + 1):
        lines.append(f"m{level}: &m{level} [*m{level - 1}, *m{level - 1}, *m{level - 1}]")
    return "\n".join(lines) + "\nx: {<<: [*m0], y: *m" + str(levels) + "}\n"


@pytest.mark.parametrize(
    ("text", "needle"), [case[1:] for case in REFUSED], ids=[case[0] for case in REFUSED]
)
def test_yaml_that_no_search_space_holds_is_one_line(
    tmp_path: Path, text: str, needle: str
) -> None:
    (tmp_path / "space.yml").write_text(text or _merge_bomb())
    with pytest.raises(SpaceError) as refused:
        read_data(tmp_path / "space.yml")
    message = str(refused.value)
    assert needle in message and "\n" not in message, message
    assert message.startswith(f"{tmp_path / 'space.yml'}: "), message


def test_aliases_within_the_budget_are_read(tmp_path: Path) -> None:
    """Reuse through anchors, as configs do it, is read (a bomb of four levels: 9^4 nodes)."""
    (tmp_path / "space.yml").write_text(_bomb(3))
    data = read_data(tmp_path / "space.yml")
    assert len(data["l3"]) == 9 and data["l3"][0][0][0] == ["lol"] * 9
