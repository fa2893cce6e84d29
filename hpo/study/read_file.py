"""Reading a search-space or experiment file: JSON or YAML, strictly, and bounded.

JSON without the leniencies of Python's json (no NaN / Infinity, no duplicate keys); YAML
(NNI's experiment configs) with the safe loader and no duplicate keys either. A ``.yml`` /
``.yaml`` file is YAML, a ``.json`` file JSON; any other name is read as JSON, or as YAML when
it is not JSON. Nothing larger than ``MAX_BYTES`` is read (``/dev/zero`` is a file too), and
data nested beyond what Python can walk is refused rather than crashing the reader.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from hpo.errors import SpaceError

#: The largest file read (a search space of 100,000 choices is a few MB).
MAX_BYTES = 64 * 1024 * 1024
YAML_SUFFIXES = (".yml", ".yaml")


def read_data(path: str | Path) -> Any:
    """The data of a JSON or YAML file; SpaceError names the file and says what is wrong."""
    source = str(path)
    text = _read_text(Path(path), source)
    if not text.strip():
        raise SpaceError("", "the file is empty (expected a JSON or YAML object)", source)
    suffix = Path(path).suffix.lower()
    try:
        if suffix in YAML_SUFFIXES:
            return loads_yaml(text)
        try:
            return loads_strict(text)
        except SpaceError:
            if suffix == ".json" or text.lstrip()[:1] in ("{", "["):
                raise
            return loads_yaml(text)  # an NNI config.yml saved under another name
    except SpaceError as exc:
        raise exc.with_source(source) from None
    except RecursionError:
        raise SpaceError("", "nested too deeply to read", source) from None


def _read_text(file: Path, source: str) -> str:
    try:
        with file.open("rb") as stream:
            raw = stream.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise SpaceError("", "no such file", source) from None
    except IsADirectoryError:
        raise SpaceError("", "is a directory, not a JSON or YAML file", source) from None
    except OSError as exc:
        raise SpaceError("", f"cannot read: {exc.strerror}", source) from None
    if len(raw) > MAX_BYTES:
        raise SpaceError(
            "", f"larger than {MAX_BYTES // 2**20} MiB: not a search-space file", source
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpaceError("", f"not UTF-8 text ({exc.reason} at byte {exc.start})", source) from None


def loads_strict(text: str) -> Any:
    """JSON without the leniencies of Python's json: no NaN/Infinity, no duplicate keys."""

    def no_constants(name: str) -> Any:
        raise SpaceError("", f"not valid JSON: {name} is not a JSON number")

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise SpaceError("", f"not valid JSON: duplicate key {key!r} in one object")
            out[key] = value
        return out

    try:
        return json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constants)
    except json.JSONDecodeError as exc:
        raise SpaceError(
            "", f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None


class _StrictLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                mark = key_node.start_mark
                raise SpaceError(
                    "",
                    f"not valid YAML: duplicate key {key!r} (line {mark.line + 1}, column "
                    f"{mark.column + 1})",
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def loads_yaml(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as exc:
        where = ""
        if exc.problem_mark is not None:
            where = f" (line {exc.problem_mark.line + 1}, column {exc.problem_mark.column + 1})"
        raise SpaceError("", f"not valid YAML: {exc.problem or exc}{where}") from None
    except yaml.YAMLError as exc:
        raise SpaceError("", f"not valid YAML: {exc}") from None
