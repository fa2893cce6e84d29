"""The report's first section, what a person opening it wants before any figure: the best
value found and its params (with test accuracy where the trial recorded it), then each study's
trials by state, budget and time used and left, as ``hpo status`` reads them."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, TrialState

from hpo.analysis.report_html import element, markup, table, text
from hpo.analysis.trial_numbers import trial_numbers
from hpo.study import StudySpec, budget_text, time_left
from hpo.study.summary import StudySummary, summary_of
from hpo.text import duration

#: The states a study's row counts, in the order a reader scans them.
STATES = (
    TrialState.COMPLETE,
    TrialState.PRUNED,
    TrialState.FAIL,
    TrialState.RUNNING,
    TrialState.WAITING,
)


def summary_section(
    storage: BaseStorage,
    specs: Sequence[StudySpec],
    trials: Mapping[str, Sequence[FrozenTrial]],
) -> str:
    """The summary box: the best trial of all the studies, then one row per study."""
    found = [summary_of(storage, spec.name) for spec in specs]
    parts = [element("h2", "Summary"), _best(specs, trials)]
    parts.append(_studies_table(found))
    return markup("section", *parts, css_class="summary")


def best_trial(
    specs: Sequence[StudySpec], trials: Mapping[str, Sequence[FrozenTrial]]
) -> tuple[StudySpec, FrozenTrial] | None:
    """The best complete trial of all the studies by their first metric (a group's studies
    share it); None without one or for several objectives (no single best)."""
    if not specs or any(spec.is_multi_objective for spec in specs):
        return None
    sign = 1.0 if specs[0].directions[0] == "maximize" else -1.0
    candidates = [
        (sign * t.values[0], -t.number, spec, t)
        for spec in specs
        for t in trials[spec.name]
        if t.state == TrialState.COMPLETE and t.values
    ]
    if not candidates:
        return None
    _, _, spec, trial = max(candidates, key=lambda c: (c[0], c[1]))
    return spec, trial


def _best(specs: Sequence[StudySpec], trials: Mapping[str, Sequence[FrozenTrial]]) -> str:
    found = best_trial(specs, trials)
    if found is None:
        why = (
            "several objectives: no single best (the studies below list their trials)"
            if any(spec.is_multi_objective for spec in specs)
            else "no complete trial yet"
        )
        return element("p", why, "headline")
    spec, trial = found
    numbers = trial_numbers(trial)
    facts = [
        text(f"Best {spec.metrics[0].name}: "),
        element("b", f"{trial.values[0]:.6g}"),
        text(f" (trial #{trial.number} of {spec.name}, {spec.sampler.name})"),
    ]
    if numbers.test_acc is not None:
        facts += [text("; test accuracy "), element("b", f"{numbers.test_acc:.4f}")]
    params = spec.trial_params(trial.params)
    rows = [[name, _value(value)] for name, value in params.items()]
    return markup("p", *facts, css_class="headline") + table(["param", "value"], rows)


def _studies_table(found: Sequence[StudySummary]) -> str:
    rows: list[list[Any]] = []
    for s in found:
        used, left = _time(s)
        rows.append(
            [
                s.name,
                s.spec.sampler.name if s.spec else None,
                s.spec.pruner.name if s.spec else None,
                s.state,
                *(s.counts.get(state, 0) for state in STATES),
                budget_text(s.spec) if s.spec else None,
                used,
                left,
            ]
        )
    headers = ["study", "sampler", "pruner", "state", *(st.name.lower() for st in STATES)]
    return table([*headers, "budget", "time used", "time left"], rows)


def _time(s: StudySummary) -> tuple[str | None, str | None]:
    """Time used since the first trial (the budget's clock) and time left of the budget."""
    if s.spec is None or not s.clock.started:
        return ("not started" if s.spec else None), None
    spec = s.spec
    used = s.clock.elapsed(s.now)
    if spec.max_duration_s is None:
        return duration(used), "no time budget"
    return duration(min(used, spec.max_duration_s)), duration(
        max(0.0, time_left(spec, s.clock, s.now))
    )


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return value if isinstance(value, str) else json.dumps(value, default=str)
