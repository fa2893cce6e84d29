"""Reading a search-space or experiment file: JSON or YAML, strictly, and bounded.

JSON without the leniencies of Python's json (no NaN / Infinity, no duplicate keys); YAML
(NNI's experiment configs) as YAML 1.2 with no duplicate keys either (``read_yaml``). A
``.yml`` / ``.yaml`` file is YAML, a ``.json`` file JSON; any other name is read as JSON, or as
YAML when it is not JSON. Only a regular file is read: a FIFO would block until something
writes to it, and a device (``/dev/zero``, a terminal) is no search space. Nothing larger than
``MAX_BYTES`` is read, no integer too large for a float, and data nested beyond what Python can
walk is refused rather than crashing the reader.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from hpo.errors import SpaceError
from hpo.study.read_yaml import MAX_INT_DIGITS, loads_yaml
from hpo.text import clip, is_text, one_line

#: The largest file read (a search space of 100,000 choices is a few MB).
MAX_BYTES = 64 * 1024 * 1024
#: The deepest nesting of a file's data: a nested choice takes three levels per level of
#: nesting, and no real space or fixed param comes near.
MAX_DEPTH = 100
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
            return checked_data(loads_yaml(text))
        try:
            return checked_data(loads_strict(text))
        except SpaceError:
            if suffix == ".json" or text.lstrip()[:1] in ("{", "["):
                raise
            return checked_data(loads_yaml(text))  # an NNI config.yml saved under another name
    except SpaceError as exc:
        raise exc.with_source(source) from None
    except RecursionError:
        raise SpaceError("", "nested too deeply to read", source) from None


def checked_data(data: Any) -> Any:
    """``data``, unless it is nested deeper than ``MAX_DEPTH`` (a fixed param 500 levels deep
    broke storing the study's spec) or a string in it (a key or a value) holds a lone
    surrogate: a JSON escape such as \\ud800 without its pair is no character, and no database
    or terminal takes it (trials failed on it). Walked without recursion."""
    stack: list[tuple[str, int, Any]] = [("", 0, data)]
    while stack:
        path, depth, value = stack.pop()
        if depth > MAX_DEPTH:
            raise SpaceError(
                clip(one_line(path), 60), f"nested too deeply (more than {MAX_DEPTH} levels)"
            )
        if isinstance(value, dict):
            for key, item in value.items():
                at = f"{path}.{key}" if path else str(key)
                if isinstance(key, str) and not is_text(key):
                    raise SpaceError(one_line(at), "a key holds a lone surrogate: not Unicode text")
                stack.append((at, depth + 1, item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", depth + 1, item) for i, item in enumerate(value))
        elif isinstance(value, str) and not is_text(value):
            raise SpaceError(
                one_line(path) or "$", "a string holds a lone surrogate: not Unicode text"
            )
    return data


def _read_text(file: Path, source: str) -> str:
    try:
        # Opened without blocking: a FIFO with no writer would wait for one forever. What is
        # not a regular file is then refused before a byte is read.
        descriptor = os.open(file, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise SpaceError("", "no such file", source) from None
    except IsADirectoryError:
        raise SpaceError("", "is a directory, not a JSON or YAML file", source) from None
    except OSError as exc:
        raise SpaceError("", f"cannot read: {exc.strerror}", source) from None
    except ValueError:  # a NUL in the path (searchSpaceFile in a config)
        raise SpaceError("", "cannot read: the path holds a NUL character", source) from None
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        if stat.S_ISDIR(mode):  # Linux opens a directory for reading, then fails to read it
            raise SpaceError("", "is a directory, not a JSON or YAML file", source)
        raise SpaceError(
            "", f"is {_file_kind(mode)}, not a regular file: give a JSON or YAML file", source
        )
    with os.fdopen(descriptor, "rb") as stream:
        try:
            raw = stream.read(MAX_BYTES + 1)
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


def _file_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a plain file"


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
        return json.loads(
            text,
            object_pairs_hook=no_duplicates,
            parse_constant=no_constants,
            parse_int=_integer,
        )
    except json.JSONDecodeError as exc:
        raise SpaceError(
            "", f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None


def _integer(text: str) -> int:
    """A JSON integer that fits a float: every number of a search space becomes one somewhere
    (a sampler, a distribution, a progress line), and Python would not even convert one of
    more than 4,300 digits."""
    digits = text.lstrip("-")
    if len(digits) > MAX_INT_DIGITS:
        raise SpaceError("", f"the integer of {len(digits)} digits is too large for a number")
    value = int(text)
    try:
        float(value)
    except OverflowError:
        raise SpaceError("", f"the integer {text[:20]}… is too large for a number") from None
    return value
