"""A study's results as files users keep: the best trial as JSON, the study as a Dr.Opt config.

``hpo best --format dropt`` writes a config that ``create-study`` reads back, its ``params``
the best trial's: the next study starts from them (its baseline trial).
"""

from __future__ import annotations

from typing import Any, Literal

import optuna
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial

from hpo import attrs
from hpo.errors import NothingFoundError
from hpo.study.spec import StudySpec
from hpo.study.store import load_spec

BestFormat = Literal["json", "dropt"]


def best(storage: BaseStorage, name: str, output_format: BestFormat = "json") -> Any:
    """``hpo best``: the best trial (every Pareto-optimal one for several objectives) as JSON,
    or the study as a Dr.Opt config whose params are the best trial's."""
    _, spec = load_spec(storage, name)
    study = optuna.load_study(study_name=name, storage=storage)
    none_yet = NothingFoundError(f"no complete trial yet in study {name!r}")
    out: Any
    if spec.is_multi_objective:
        pareto = study.best_trials
        if not pareto:
            raise none_yet
        out = [trial_json(spec, t) for t in pareto]
    else:
        try:
            out = trial_json(spec, study.best_trial)
        except ValueError:  # Optuna's word for "no complete trial"
            raise none_yet from None
    if output_format == "dropt":
        first = out[0] if isinstance(out, list) else out
        return dropt_config(spec, first["params"])
    return out


def trial_json(spec: StudySpec, trial: FrozenTrial) -> dict[str, Any]:
    """A trial as ``hpo best`` prints it: number, values by metric, the params it ran with,
    and the seed it trained with where the objective used one."""
    out: dict[str, Any] = {
        "trial": trial.number,
        "values": dict(zip([m.name for m in spec.metrics], trial.values, strict=True)),
        "params": spec.trial_params(trial.params),
    }
    if attrs.SEED in trial.user_attrs:
        out["seed"] = trial.user_attrs[attrs.SEED]
    return out


def dropt_config(spec: StudySpec, params: dict[str, Any]) -> dict[str, Any]:
    """The study as a Dr.Opt config whose params (its baseline trial) are ``params``."""
    config: dict[str, Any] = {
        "experimentName": spec.name,
        "objective": spec.objective.target,
        "sampler": {"name": spec.sampler.name, **spec.sampler.options},
        "pruner": {"name": spec.pruner.name, **spec.pruner.options},
        "metrics": {m.name: m.direction for m in spec.metrics},
        "seed": spec.seed,
    }
    if spec.max_trials is not None:
        config["maxTrialNum"] = spec.max_trials
    if spec.max_duration_s is not None:
        config["maxExecDuration"] = f"{int(spec.max_duration_s)}s"
    return {"config": config, "params": params, "search_space": dict(spec.search_space)}
