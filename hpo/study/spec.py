"""The study spec: everything a worker needs, stored with the study.

``hpo create-study`` writes one :class:`StudySpec` as JSON into the study's user attribute
``hpo:spec`` (``hpo.attrs.SPEC``); a worker reads it back with nothing but the storage URL and
the study name. The JSON form is versioned (``version``) so that a newer hpo can refuse, with a
clear message, a spec it does not understand.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any, cast

from hpo.errors import HpoError
from hpo.objectives import Direction, Metric, ObjectiveSpec
from hpo.space import Space, Value, parse_space
from hpo.tuners import Component, encode_space_for

#: 2: numeric choices stored as values for every sampler (``index_choices``); hpo 0.1 wrote 1
#: and would write ``name[index]`` into a new CMA-ES study, so it must refuse version 2.
#: 3: weights kept in the study's database (``artifacts_in_database``); an hpo that reads only
#: 1 and 2 would keep them in its own machine's cache, where nobody else finds them.
SPEC_VERSION = 3
#: The versions this hpo reads: older studies go on running as they were made.
READABLE_VERSIONS = (1, 2, 3)


@dataclass(frozen=True)
class Liveness:
    """How workers show they are alive, and what happens to the trials of those that die.

    A running trial records a heartbeat every ``heartbeat_interval`` seconds; one silent for
    ``grace_period`` seconds is failed and run again with the same params, up to ``max_retry``
    times, resuming from the last epoch saved under ``checkpoint_dir`` (a directory every
    worker can read: shared between machines, or each machine's own, when unset).
    """

    heartbeat_interval: int = 20
    grace_period: int = 120
    max_retry: int = 3
    checkpoint_dir: str | None = None


@dataclass(frozen=True)
class StudySpec:
    name: str
    search_space: Mapping[str, Any]  # normalised NNI JSON (fixes applied)
    params: Mapping[str, Any]  # fixed values merged into every trial's params
    sampler: Component
    pruner: Component
    objective: ObjectiveSpec
    metrics: tuple[Metric, ...]
    seed: int
    created_at: float  # seconds since the epoch (UTC); the clock is the first worker's start
    max_trials: int | None = None
    max_duration_s: float | None = None
    baseline: Mapping[str, Any] = field(default_factory=dict)  # Optuna params of the baseline
    source: str | None = None  # the file the spec came from, for humans
    liveness: Liveness = field(default_factory=lambda: Liveness())
    group: str | None = None  # the comparison group this study belongs to (hpo compare)
    #: A directory the best trials' weights are kept in (an Optuna file-system artifact store
    #: every worker can write); None: in the study's database (``hpo.study.artifacts``).
    artifact_dir: str | None = None
    #: Without an artifact_dir, weights go to the study's database; specs before version 3
    #: lack the key and keep theirs where they did (beside SQLite, else each machine's cache).
    artifacts_in_database: bool = False
    keep_weights: int = 1  # the best k trials keep their weights
    repeat: int = 1  # which repeat of its sampler in the group
    #: Numeric choices stored as indices over the sorted options (``batch_size[index]``): what
    #: hpo 0.1 did for CMA-ES and QMC. Its specs lack the key; their studies keep the encoding.
    index_choices: bool = False
    version: int = SPEC_VERSION

    @property
    def directions(self) -> list[Direction]:
        return [m.direction for m in self.metrics]

    @property
    def is_multi_objective(self) -> bool:
        return len(self.metrics) > 1

    @cached_property
    def space(self) -> Space:
        """The parsed search space as this study's trials store it."""
        return encode_space_for(
            self.sampler.name,
            parse_space(dict(self.search_space)),
            index_choices=self.index_choices,
        )

    def trial_params(self, optuna_params: Mapping[str, Any]) -> dict[str, Value]:
        """The params a trial with these stored Optuna params ran with: the fixed ones and the
        sampled ones, NNI-shaped (as the objective received them)."""
        return {**self.params, **self.space.decode(optuna_params)}

    # -- JSON -----------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["sampler"] = {"name": self.sampler.name, "options": dict(self.sampler.options)}
        data["pruner"] = {"name": self.pruner.name, "options": dict(self.pruner.options)}
        data["objective"] = self.objective.to_json()
        data["metrics"] = [asdict(m) for m in self.metrics]
        data["liveness"] = asdict(self.liveness)
        return cast(dict[str, Any], json.loads(json.dumps(data)))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StudySpec:
        version = data.get("version")
        if version not in READABLE_VERSIONS:
            raise HpoError(
                f"study spec version {version!r} is not supported by this hpo "
                f"(it reads versions {', '.join(map(str, READABLE_VERSIONS))}); upgrade hpo on "
                "this machine"
            )
        try:
            return cls(
                name=data["name"],
                search_space=data["search_space"],
                params=data["params"],
                sampler=Component(data["sampler"]["name"], data["sampler"]["options"]),
                pruner=Component(data["pruner"]["name"], data["pruner"]["options"]),
                objective=ObjectiveSpec.from_json(data["objective"]),
                metrics=tuple(Metric(m["name"], m["direction"]) for m in data["metrics"]),
                seed=int(data["seed"]),
                created_at=float(data["created_at"]),
                max_trials=data.get("max_trials"),
                max_duration_s=data.get("max_duration_s"),
                baseline=data.get("baseline", {}),
                source=data.get("source"),
                liveness=Liveness(**data.get("liveness", {})),
                group=data.get("group"),
                artifact_dir=data.get("artifact_dir"),
                artifacts_in_database=bool(data.get("artifacts_in_database", False)),
                keep_weights=int(data.get("keep_weights", 1)),
                repeat=int(data.get("repeat", 1)),
                # hpo 0.1 (version 1) encoded numeric choices of CMA-ES and QMC as indices
                index_choices=bool(data.get("index_choices", version == 1)),
                version=int(version),  # kept: what a study of an older version still means
            )
        except (KeyError, TypeError) as exc:
            raise HpoError(f"the stored study spec is damaged: missing or invalid {exc}") from exc

    def same_experiment(self, other: StudySpec) -> list[str]:
        """The fields in which two specs describe different experiments (empty: the same)."""
        keys = ("search_space", "params", "sampler", "pruner", "objective", "metrics")
        mine, theirs = self.to_json(), other.to_json()
        return [k for k in keys if mine[k] != theirs[k]]
