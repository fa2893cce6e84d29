"""Search-space files: a bare NNI space or a whole Dr.Opt config, read unchanged.

A Dr.Opt config is ``{"config": {...}, "params": {...}, "search_space": {...}}``; anything
else is read as a bare NNI space. ``config`` keys hpo understands:

- Dr.Opt / NNI: ``experimentName``, ``maxTrialNum``, ``maxExecDuration`` (``"12h"``),
  ``model`` (the trial module: ``"train"`` → ``train.py`` beside the config, with
  ``run(params)``), ``tuner`` (``builtinTunerName`` and ``classArgs`` with ``optimize_mode``,
  ``population_size``, ``seed``), ``assessor`` (``builtinAssessorName``: ``Medianstop``);
- hpo: ``objective`` (``"training"`` or ``"module:function"``), ``sampler`` and ``pruner``
  (a name or ``{"name": ..., options}``), ``metrics`` (``{"val_acc": "maximize",
  "num_params": "minimize"}`` for several objectives), ``seed``, and the liveness settings
  ``heartbeat_interval`` and ``grace_period`` (seconds), ``max_retry`` and ``checkpoint_dir``.

Other keys found in real Dr.Opt files (``parentProject``, ``updatePeriod``, ...) are ignored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hpo.errors import SpaceError
from hpo.objectives import Direction, Metric
from hpo.space import Notice, Space, parse_space
from hpo.study.config_keys import (
    CONFIG_KEYS,
    IGNORED_CONFIG_KEYS,
    merge_components,
    merge_direction,
)
from hpo.text import kind
from hpo.tuners import Component


@dataclass(frozen=True)
class SearchConfig:
    """A parsed search-space file: the space and whatever the Dr.Opt config said."""

    space: Space
    space_path: str = ""  # JSON path of the space: "search_space" in a Dr.Opt config
    source: str | None = None
    base_dir: str | None = None  # the file's directory (where a Dr.Opt train.py lives)
    params: Mapping[str, Any] = field(default_factory=dict)
    experiment_name: str | None = None
    max_trials: int | None = None
    max_duration_s: float | None = None
    sampler: Component | None = None
    pruner: Component | None = None
    metrics: tuple[Metric, ...] | None = None
    direction: Direction | None = None
    objective: str | None = None
    model: str | None = None
    seed: int | None = None
    liveness: Mapping[str, Any] = field(default_factory=dict)  # Liveness fields given
    notices: tuple[Notice, ...] = ()

    @property
    def all_notices(self) -> tuple[Notice, ...]:
        return self.notices + self.space.notices


def load_file(path: str | Path) -> SearchConfig:
    """Read and parse a search-space file; SpaceError names the file and the JSON path."""
    file = Path(path)
    source = str(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpaceError("", "no such file", source) from None
    except IsADirectoryError:
        raise SpaceError("", "is a directory, not a JSON file", source) from None
    except UnicodeDecodeError as exc:
        raise SpaceError("", f"not UTF-8 text ({exc.reason} at byte {exc.start})", source) from None
    except OSError as exc:
        raise SpaceError("", f"cannot read: {exc.strerror}", source) from None
    try:
        data = loads_strict(text)
    except SpaceError as exc:
        raise exc.with_source(source) from None
    try:
        return parse_config(data, source=source, base_dir=str(file.resolve().parent))
    except SpaceError as exc:
        raise exc.with_source(source) from None


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

    if not text.strip():
        raise SpaceError("", "the file is empty (expected a JSON object)")
    try:
        return json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constants)
    except json.JSONDecodeError as exc:
        raise SpaceError(
            "", f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None


def is_dropt_config(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and "search_space" in data
        and set(data)
        <= {
            "config",
            "params",
            "search_space",
        }
    )


def parse_config(
    data: Any, *, source: str | None = None, base_dir: str | None = None
) -> SearchConfig:
    """Parse the JSON of a search-space file (a bare NNI space or a Dr.Opt config)."""
    if not isinstance(data, dict):
        raise SpaceError("$", f"expected a JSON object, got {type(data).__name__}")
    if not is_dropt_config(data):
        if "search_space" in data:
            extra = sorted(set(data) - {"config", "params", "search_space"})
            raise SpaceError(
                extra[0],
                "unknown top-level key in a Dr.Opt config (expected config, params, search_space)",
            )
        return SearchConfig(space=parse_space(data), source=source, base_dir=base_dir)

    notices: list[Notice] = []
    space = parse_space(data["search_space"], "search_space")
    params = data.get("params", {})
    if not isinstance(params, dict):
        raise SpaceError("params", f"expected an object of fixed values, got {kind(params)}")
    config = data.get("config", {})
    if not isinstance(config, dict):
        raise SpaceError("config", f"expected an object, got {kind(config)}")

    fields: dict[str, Any] = {}
    for key, value in config.items():
        at = f"config.{key}"
        handler = CONFIG_KEYS.get(key)
        if handler is not None:
            handler(value, at, fields, notices)
        elif key not in IGNORED_CONFIG_KEYS:
            notices.append(Notice(at, "unknown config key ignored"))
    merge_direction(fields, notices)
    merge_components(fields)
    return SearchConfig(
        space=space,
        space_path="search_space",
        source=source,
        base_dir=base_dir,
        params=params,
        notices=tuple(notices),
        **fields,
    )
