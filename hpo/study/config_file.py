"""Search-space files, read unchanged: a bare NNI space, a Dr.Opt config, or an NNI
experiment config (v1 or v2), in JSON or YAML.

A Dr.Opt config is ``{"config": {...}, "params": {...}, "search_space": {...}}``; an NNI
experiment config names its space with ``searchSpaceFile`` (v2, relative to the config),
``searchSpacePath`` (v1) or ``searchSpace`` (inline) and its trials with ``trialCommand`` (v2)
or ``trial.command`` (v1); anything else is read as a bare NNI space. Keys hpo understands:

- Dr.Opt / NNI: ``experimentName``, ``maxTrialNum`` / ``maxTrialNumber``, ``maxExecDuration``
  / ``maxExperimentDuration`` (``"12h"``), ``model`` (Dr.Opt's trial module: ``"train"`` →
  ``train.py`` beside the config, with ``run(params)``), ``tuner`` / ``advisor`` and
  ``assessor`` (a built-in name and ``classArgs``);
- NNI, what runs where (``nni_keys``): ``trialCommand``, ``trialCodeDirectory``,
  ``trialConcurrency``, ``trialGpuNumber``, ``maxTrialDuration``, ``trainingService`` and
  their v1 forms; each is honoured, refused, or (changing nothing) listed as ignored;
- hpo: ``objective`` (``"training"``, ``"module:function"`` or ``{"command": ...}``),
  ``sampler`` and ``pruner`` (a name or ``{"name": ..., options}``), ``metrics``
  (``{"val_acc": "maximize", "num_params": "minimize"}`` for several objectives), ``seed``,
  and the liveness settings ``heartbeat_interval`` and ``grace_period`` (seconds),
  ``max_retry`` and ``checkpoint_dir``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hpo.errors import SpaceError
from hpo.objectives import Direction, Metric
from hpo.objectives.paths import absolute_path, is_directory, user_path
from hpo.space import Notice, Space, parse_space
from hpo.study.config_keys import CONFIG_KEYS, merge_components, merge_direction
from hpo.study.nni_keys import NNI_KEYS
from hpo.study.read_file import read_data
from hpo.text import kind
from hpo.tuners import Component

#: Every key of a Dr.Opt ``config`` or an NNI experiment config → its handler.
ALL_KEYS = {**CONFIG_KEYS, **NNI_KEYS}
#: A top-level key for people, read past in every kind of file.
COMMENT_KEY = "_comment"
#: The keys that name an NNI experiment config's search space.
SPACE_KEYS = ("searchSpaceFile", "searchSpacePath", "searchSpace")
#: Keys that make a file an NNI experiment config (a bare space holds parameters only).
EXPERIMENT_MARKERS = frozenset({*SPACE_KEYS, "trialCommand", "trial"})


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
    format: str = "search space"  # or "Dr.Opt config", "NNI experiment config"
    command: str | None = None  # NNI's trialCommand: each trial runs it
    code_dir: str | None = None  # where the command runs (absolute)
    trial_gpus: int | None = None  # GPUs per trial (trialGpuNumber)
    max_trial_duration_s: float | None = None  # maxTrialDuration
    concurrency: int | None = None  # trialConcurrency: local workers of ``hpo run``
    gpu_indices: tuple[str, ...] | None = None  # the local training service's gpuIndices
    trials_per_gpu: int | None = None  # maxTrialNumberPerGpu
    artifact_dir: str | None = None  # where the best trials' weights are kept
    keep_weights: int | None = None  # how many best trials keep their weights
    ignored: tuple[str, ...] = ()  # keys read that change nothing here
    nni_names: Mapping[str, str] = field(default_factory=dict)  # "tuner" → "TPE", "assessor"

    @property
    def all_notices(self) -> tuple[Notice, ...]:
        return self.notices + self.space.notices


def load_file(path: str | Path) -> SearchConfig:
    """Read and parse a search-space file; SpaceError names the file and the JSON path."""
    source = str(path)
    data = read_data(path)
    try:
        return parse_config(data, source=source, base_dir=str(Path(path).resolve().parent))
    except SpaceError as exc:
        raise exc.with_source(exc.source or source) from None
    except RecursionError:
        raise SpaceError("", "nested too deeply to read", source) from None


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


def is_nni_experiment(data: Any) -> bool:
    """An NNI experiment config rather than a bare space (whose values are all parameters)."""
    if not isinstance(data, dict) or not EXPERIMENT_MARKERS & set(data):
        return False
    return not all(isinstance(v, dict) and "_type" in v for v in data.values())


def parse_config(
    data: Any, *, source: str | None = None, base_dir: str | None = None
) -> SearchConfig:
    """Parse the data of a search-space file (a bare NNI space, a Dr.Opt config or an NNI
    experiment config)."""
    if not isinstance(data, dict):
        raise SpaceError("$", f"expected a JSON object, got {type(data).__name__}")
    # A note for people (what the file reproduces, what differs), in any kind of file.
    data = {k: v for k, v in data.items() if k != COMMENT_KEY}
    if is_nni_experiment(data):
        return _nni_experiment(data, source, base_dir or ".")
    if not is_dropt_config(data):
        if "search_space" in data:
            extra = sorted(set(data) - {"config", "params", "search_space"})
            raise SpaceError(
                extra[0],
                "unknown top-level key in a Dr.Opt config (expected config, params, search_space)",
            )
        return SearchConfig(space=parse_space(data), source=source, base_dir=base_dir)

    space = parse_space(data["search_space"], "search_space")
    params = data.get("params", {})
    if not isinstance(params, dict):
        raise SpaceError("params", f"expected an object of fixed values, got {kind(params)}")
    config = data.get("config", {})
    if not isinstance(config, dict):
        raise SpaceError("config", f"expected an object, got {kind(config)}")
    notices: list[Notice] = []
    for key in SPACE_KEYS:
        if key in config:
            notices.append(
                Notice(f"config.{key}", "ignored: the space is this file's search_space")
            )
    fields = _read_keys(
        {k: v for k, v in config.items() if k not in SPACE_KEYS}, "config.", notices
    )
    return _config(
        fields,
        notices,
        space=space,
        space_path="search_space",
        source=source,
        base_dir=base_dir,
        params=params,
        format="Dr.Opt config",
    )


def _nni_experiment(data: dict[str, Any], source: str | None, base_dir: str) -> SearchConfig:
    given = [k for k in SPACE_KEYS if k in data]
    if len(given) != 1:
        raise SpaceError(
            given[1] if given else "",
            "give the search space once: searchSpaceFile, searchSpacePath or searchSpace"
            if given
            else "no search space: give searchSpaceFile (or v1's searchSpacePath) or searchSpace",
        )
    key = given[0]
    if key == "searchSpace":
        space, space_path = parse_space(data[key], key), key
    else:
        if not isinstance(data[key], str) or not data[key].strip():
            raise SpaceError(key, "expected the path of a search-space file")
        try:
            space_file = user_path(data[key], base_dir)
        except ValueError as exc:
            raise SpaceError(key, f"{data[key]!r}: {exc}") from None
        try:
            space = parse_space(read_data(space_file))
        except SpaceError as exc:
            raise exc.with_source(exc.source or str(space_file)) from None
        space_path = ""
    notices: list[Notice] = []
    fields = _read_keys({k: v for k, v in data.items() if k not in SPACE_KEYS}, "", notices)
    # NNI stops trials early only when the experiment names an assessor.
    fields.setdefault("pruner", Component("none"))
    return _config(
        fields,
        notices,
        space=space,
        space_path=space_path,
        source=source,
        base_dir=base_dir,
        format="NNI experiment config",
    )


def _read_keys(config: Mapping[str, Any], prefix: str, notices: list[Notice]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, value in config.items():
        at = f"{prefix}{key}"
        handler = ALL_KEYS.get(key)
        if handler is None:
            notices.append(Notice(at, "unknown config key ignored"))
        elif value is not None:  # NNI: a key set to null is a key not set
            handler(value, at, fields, notices)
    merge_direction(fields, notices)
    merge_components(fields)
    return fields


def _config(
    fields: dict[str, Any], notices: list[Notice], *, base_dir: str | None, **given: Any
) -> SearchConfig:
    if "command" in fields and ("objective" in fields or "model" in fields):
        raise SpaceError(
            "objective" if "objective" in fields else "model",
            "the config names both a command and a Python objective for its trials; keep one",
        )
    code_dir = fields.pop("code_dir", None)
    if code_dir is not None or "command" in fields:
        text, at = code_dir or (".", "")
        try:
            directory = absolute_path(text, base_dir or ".")
        except ValueError as exc:
            raise SpaceError(at, f"the trials' code directory {text!r}: {exc}") from None
        if not is_directory(directory):
            raise SpaceError(at, f"the trials' code directory {directory} does not exist")
        fields["code_dir"] = str(directory)
    if "command" not in fields:
        for key, what in (
            ("trial_gpus", "trialGpuNumber (GPUs per trial)"),
            ("max_trial_duration_s", "maxTrialDuration"),
        ):
            if key in fields:
                raise SpaceError(
                    "",
                    f"{what} applies to command trials (trialCommand) only; this config has none",
                )
    fields["ignored"] = tuple(fields.get("ignored", ()))
    return SearchConfig(notices=tuple(notices), base_dir=base_dir, **given, **fields)
