"""What a validated file will run, in words: ``hpo validate``'s summary below the parameters."""

from __future__ import annotations

from dataclasses import replace

from hpo.errors import InvalidInputError
from hpo.space import Notice
from hpo.study.budget import budget_text
from hpo.study.config_file import SearchConfig
from hpo.study.groups import Plan, plan_studies
from hpo.study.overrides import Overrides
from hpo.study.spec import StudySpec
from hpo.text import duration

#: Stands for the objective of a bare space checked without one (never stored).
_UNNAMED = "<your objective>"


def check_config(config: SearchConfig, overrides: Overrides) -> Plan:
    """Everything create-study checks, for ``hpo validate``.

    A bare NNI space names no objective; create-study would run the built-in training
    objective with it. When that objective refuses the space (its parameters are the user's
    own), the rest is still checked and the refusal becomes a notice, so that NNI's own space
    files validate as spaces.
    """
    try:
        return plan_studies(config, overrides)
    except InvalidInputError as exc:
        if config.format != "search space" or overrides.objective or overrides.command:
            raise
        plan = plan_studies(config, replace(overrides, command=_UNNAMED))
        refusal = Notice(
            "",
            f"not for the built-in training objective ({exc}): give create-study your own with "
            "--objective or --command",
        )
        return replace(plan, notices=[refusal, *plan.notices])


def run_summary(config: SearchConfig, spec: StudySpec) -> list[tuple[str, str]]:
    """(what, how) rows: the objective, the tuner and pruner and what NNI names became,
    budgets, local concurrency and GPUs, and the keys that change nothing here."""
    objective = spec.objective
    if objective.command == _UNNAMED:
        unnamed = ("objective", "not named (give --objective or --command)")
        return [unnamed, *_budgets(config, spec)]
    rows = [("objective", objective.describe())]
    if objective.is_command:
        gpus = "the worker's own" if objective.gpus is None else str(objective.gpus)
        rows.append(("GPUs per trial", gpus))
        limit = "none" if objective.max_seconds is None else duration(objective.max_seconds)
        rows.append(("time limit per trial", limit))
    tuner = config.nni_names.get("tuner")
    rows.append(
        ("sampler", f"{tuner} → {spec.sampler.describe()}" if tuner else spec.sampler.describe())
    )
    assessor = config.nni_names.get("assessor")
    pruner = spec.pruner.describe()
    rows.append(("pruner", f"{assessor} → {pruner}" if assessor else pruner))
    return rows + _budgets(config, spec)


def _budgets(config: SearchConfig, spec: StudySpec) -> list[tuple[str, str]]:
    rows = [("budget", budget_text(spec))]
    if config.concurrency is not None:
        rows.append(("concurrency", f"{config.concurrency} local workers with hpo run"))
    if config.gpu_indices is not None:
        rows.append(("GPUs of hpo run", ", ".join(config.gpu_indices)))
    if config.trials_per_gpu is not None:
        rows.append(("trials per GPU", str(config.trials_per_gpu)))
    if config.ignored:
        rows.append(("ignored (no effect here)", ", ".join(config.ignored)))
    return rows
