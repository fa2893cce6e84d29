"""YAML as its users expect it: the YAML 1.2 core schema, the data of a JSON file, bounded.

PyYAML implements YAML 1.1, where ``on``, ``yes``, ``no`` and ``off`` are booleans (a parameter
named ``on`` became ``True``), ``2024-01-01`` is a date, ``1e-3`` is a string (it has no dot)
and ``010`` is octal. NNI's users write their configs for YAML 1.2 (and JSON), so this loader
resolves plain scalars by YAML 1.2's core schema: ``true`` / ``false``, ``null`` / ``~``,
integers (decimal, ``0o``, ``0x``) and floats (``1e-3``, ``.inf``, ``.nan``); everything else
is a string. Merge keys (``<<: *defaults``) are honoured: not part of 1.2, but every YAML
library of the configs' era reads them.

What a search-space file cannot hold is refused in one line naming the line and column: keys
that are not strings (``3:``, ``true:``), explicit ``!!binary``, ``!!timestamp``, ``!!set``,
``!!omap`` and ``!!pairs`` values, an integer too large for a float. Aliases are counted before
anything is built: a document whose aliases would copy more than ``MAX_ALIAS_NODES`` nodes (a
362-byte "billion laughs" file expands 9^9 times) or that refers to itself is refused.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from hpo.errors import SpaceError
from hpo.text import show

#: Nodes that aliases (and merge keys) may add to a document by copying what they refer to.
#: Configs that reuse a parameter or a trial block through anchors copy tens of nodes; ten
#: thousand leaves room for hundreds of such uses, while an alias bomb needs millions.
MAX_ALIAS_NODES = 10_000
#: The longest integer read: one with more digits cannot be a float (≤ 1.8e308), and Python
#: refuses to convert one beyond 4,300 digits anyway.
MAX_INT_DIGITS = 309

_MERGE_TAG = "tag:yaml.org,2002:merge"
_INT_TAG = "tag:yaml.org,2002:int"
_CAP = 10**12  # expanded sizes past this are all "too many": no giant integers


#: libyaml's parser where PyYAML was built with it (its wheels are): five times faster on a
#: large file, and it refuses nesting past 1,000 levels itself. Its nodes are the same; the
#: schema and the limits below are this module's either way.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Yaml12Loader(_SafeLoader):  # type: ignore[valid-type,misc]
    """The safe loader with YAML 1.2's core schema, merge keys, and the limits above."""

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        _check_aliases(node)
        return self.construct_document(node)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, MappingNode):
            return super().construct_mapping(node, deep=deep)  # PyYAML's own error
        mapping: dict[Any, Any] = {}
        merged: list[MappingNode] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged.extend(_merge_sources(value_node))
                continue
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str):
                raise _error(key_node, _not_text(key_node, key))
            if key in mapping:
                raise _error(key_node, f"duplicate key {key!r}", "not valid YAML: ")
            mapping[key] = self.construct_object(value_node, deep=deep)
        # The mapping's own keys win over merged ones, and an earlier merged mapping over a
        # later one (YAML's merge-key rules).
        for source in merged:
            for key, value in self.construct_mapping(source, deep=True).items():
                mapping.setdefault(key, value)
        return mapping

    def construct_yaml_int(self, node: ScalarNode) -> int:
        text = str(self.construct_scalar(node))
        sign, digits = (-1, text[1:]) if text[:1] == "-" else (1, text.lstrip("+"))
        if len(digits) > MAX_INT_DIGITS:
            raise _error(node, f"the integer of {len(digits)} digits is too large for a number")
        base = {"0o": 8, "0x": 16}.get(digits[:2].lower(), 10)
        try:
            value = sign * int(digits[2:] if base != 10 else digits, base)
            float(value)
        except ValueError:
            raise _error(node, f"not an integer: {text!r}") from None
        except OverflowError:
            raise _error(node, f"the integer {text[:20]}… is too large for a number") from None
        return value


def _refuse(what: str) -> Any:
    def construct(loader: _Yaml12Loader, node: Node) -> Any:
        raise _error(
            node,
            f"{what} is not supported: a search-space file holds text, numbers, "
            "true / false, null, lists and objects",
        )

    return construct


def _merge_sources(node: Node) -> list[MappingNode]:
    """The mappings a merge key names: one, or a list of them."""
    sources = node.value if isinstance(node, SequenceNode) else [node]
    for source in sources:
        if not isinstance(source, MappingNode):
            raise _error(source, "a merge key (<<) takes a mapping or a list of mappings")
    return list(sources)


def _not_text(node: Node, key: Any) -> str:
    if isinstance(node, ScalarNode):
        return f'a key must be text, got {show(key)}: quote it ("{node.value}")'
    return f"a key must be text, got {'a list' if isinstance(node, SequenceNode) else 'an object'}"


def _error(node: Node, reason: str, prefix: str = "") -> SpaceError:
    mark = node.start_mark
    return SpaceError("", f"{prefix}{reason} (line {mark.line + 1}, column {mark.column + 1})")


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [item for pair in node.value for item in pair]
    return []


def _check_aliases(root: Node) -> None:
    """Refuse a document whose aliases copy more than ``MAX_ALIAS_NODES`` nodes, or refer to a
    node that contains them; counted on the composed graph, where an alias is one more
    reference to its anchor's node, before anything is built (iteratively: a deep document is
    refused by the composer, not here)."""
    sizes: dict[int, int] = {}  # id(node) → nodes in it once every alias is expanded
    open_: set[int] = set()  # the nodes on the path from the root to the current one
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            sizes[key] = min(_CAP, 1 + sum(sizes[id(child)] for child in _children(node)))
            open_.discard(key)
            continue
        if key in sizes:
            continue
        open_.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in open_:
                raise _error(child, "an alias refers to a node that contains it")
            if id(child) not in sizes:
                stack.append((child, False))
    copied = sizes[id(root)] - len(sizes)
    if copied > MAX_ALIAS_NODES:
        raise SpaceError(
            "",
            f"aliases expand to more than {MAX_ALIAS_NODES:,} nodes: refused (a YAML alias "
            "bomb?); write the repeated parts out or reuse fewer",
        )


def _core_schema() -> None:
    """YAML 1.2's core schema in place of PyYAML's YAML 1.1 one, on this loader only."""
    _Yaml12Loader.yaml_implicit_resolvers = {}
    resolvers = [
        ("tag:yaml.org,2002:bool", r"true|True|TRUE|false|False|FALSE", "tTfF"),
        ("tag:yaml.org,2002:null", r"~|null|Null|NULL|", ["~", "n", "N", ""]),
        # Integers before floats: the first resolver that matches a scalar wins.
        (_INT_TAG, r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+", "-+0123456789"),
        (
            "tag:yaml.org,2002:float",
            r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
            "-+0123456789.",
        ),
        (_MERGE_TAG, r"<<", "<"),
    ]
    for tag, pattern, first in resolvers:
        _Yaml12Loader.add_implicit_resolver(tag, re.compile(f"^(?:{pattern})$"), list(first))
    _Yaml12Loader.add_constructor(_INT_TAG, _Yaml12Loader.construct_yaml_int)
    for tag, what in (
        ("binary", "binary data (!!binary)"),
        ("timestamp", "a date (!!timestamp; write it as a string)"),
        ("set", "a set (!!set; write a list)"),
        ("omap", "an ordered mapping (!!omap; write an object)"),
        ("pairs", "a list of pairs (!!pairs; write an object)"),
    ):
        _Yaml12Loader.add_constructor(f"tag:yaml.org,2002:{tag}", _refuse(what))


_core_schema()


def loads_yaml(text: str) -> Any:
    """The data of a YAML document; SpaceError says what is wrong, in one line."""
    try:
        return yaml.load(text, Loader=_Yaml12Loader)
    except yaml.MarkedYAMLError as exc:
        if "maximum nesting depth" in str(exc.problem):  # libyaml's limit
            raise SpaceError("", "nested too deeply to read") from None
        where = ""
        if exc.problem_mark is not None:
            where = f" (line {exc.problem_mark.line + 1}, column {exc.problem_mark.column + 1})"
        raise SpaceError("", f"not valid YAML: {exc.problem or exc}{where}") from None
    except yaml.YAMLError as exc:
        # A reader error ("unacceptable character #x0000") adds its position on a second line.
        raise SpaceError("", f"not valid YAML: {' '.join(str(exc).split())}") from None
