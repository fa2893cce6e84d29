"""The report's section on one study: its optimisation history, epoch curves, parallel
coordinates, its best trial with the numbers users report, its top trials and its space."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import optuna.visualization as vis
import plotly.graph_objects as go
from optuna.trial import FrozenTrial, TrialState

from hpo.analysis.report_html import Figures, element, table
from hpo.analysis.trial_numbers import trial_numbers
from hpo.optuna_compat import in_memory_copy
from hpo.study import StudySpec
from hpo.text import first_line

#: Epoch curves drawn per study at most (the latest trials): a 10,000-line plot helps nobody.
MAX_CURVES = 300
#: Lines in a parallel-coordinates plot at most: Optuna draws one plotly trace per trial, which
#: took 9 s and megabytes of HTML per 5,000-trial study; a seeded sample shows the same picture.
MAX_PARALLEL = 300
#: Rows of the table of the best trials.
TOP_TRIALS = 10


def best_run_per_tuner(
    specs: Sequence[StudySpec], trials: Mapping[str, Sequence[FrozenTrial]]
) -> list[StudySpec]:
    """For each sampler, its study with the best value (its only one without repeats)."""
    best: dict[str, tuple[float, StudySpec]] = {}
    for spec in specs:
        values = [t.values[0] for t in trials[spec.name] if t.values]
        if not values:
            score = -math.inf
        elif spec.directions[0] == "maximize":
            score = max(values)
        else:
            score = -min(values)
        if spec.sampler.name not in best or score > best[spec.sampler.name][0]:
            best[spec.sampler.name] = (score, spec)
    return [spec for _, spec in best.values()]


def study_section(
    spec: StudySpec,
    trials: Sequence[FrozenTrial],
    figures: Figures,
    *,
    params_shown: int | None = None,
) -> str:
    """The study's figures and tables; ``params_shown``: the number of a trial whose params
    the summary already lists (not repeated here)."""
    heading = element("h2", f"{spec.name} ({spec.sampler.name})")
    complete = [t for t in trials if t.state == TrialState.COMPLETE and t.values]
    if not complete:
        return heading + element("p", "no complete trial yet")
    metric = spec.metrics[0].name
    target = None if not spec.is_multi_objective else (lambda t: t.values[0])
    parts = [heading]
    parts.append(
        _figure(
            figures,
            "optimisation history",
            lambda: vis.plot_optimization_history(
                in_memory_copy(spec.directions, trials), target=target, target_name=metric
            ),
        )
    )
    if any(t.intermediate_values for t in trials):
        parts.append(figures.html(epoch_curves(trials, metric)))
    ranked = _ranked(spec, complete)
    best = ranked[0]
    if len(complete) > 1 and complete[0].params:
        parts.append(
            _figure(
                figures, "parallel coordinates", lambda: _parallel(spec, complete, best, target)
            )
        )
    parts.append(_best_trial(spec, best, show_params=best.number != params_shown))
    parts.append(element("h3", f"top {min(TOP_TRIALS, len(ranked))} of {len(complete)} complete"))
    parts.append(_top_table(spec, ranked[:TOP_TRIALS]))
    parts.append(element("h3", "search space"))
    parts.append(space_table(spec))
    return "\n".join(parts)


def space_table(spec: StudySpec) -> str:
    """The search space as the NNI file wrote it, one row per parameter (a nested choice's
    options as JSON), then the fixed params every trial gets."""
    rows: list[list[Any]] = []
    for name, entry in spec.search_space.items():
        if isinstance(entry, Mapping) and "_type" in entry:
            rows.append([name, entry["_type"], _values(entry["_type"], entry.get("_value"))])
        else:
            rows.append([name, None, json.dumps(entry, default=str)])
    rows.extend([name, "fixed", _cell(value)] for name, value in spec.params.items())
    return table(["param", "type", "values"], rows)


def _values(kind: str, value: Any) -> str:
    if not isinstance(value, list):
        return json.dumps(value, default=str)
    if kind == "choice":
        return ", ".join(_cell(v) for v in value)
    return "[" + ", ".join(_cell(v) for v in value) + "]"


def _figure(figures: Figures, what: str, draw: Callable[[], Any]) -> str:
    """One of Optuna's figures, or a line saying why it is not drawn: Optuna's colour scale
    fails on values near the largest float (a result of 1e308), and the rest of the report
    still helps."""
    try:
        return figures.html(draw())
    except (ValueError, OverflowError, ZeroDivisionError) as exc:
        return element("p", f"{what} not drawn: {first_line(exc)}", "warning")


def _ranked(spec: StudySpec, complete: Sequence[FrozenTrial]) -> list[FrozenTrial]:
    sign = -1.0 if spec.directions[0] == "maximize" else 1.0
    return sorted(complete, key=lambda t: (sign * t.values[0], t.number))


def _best_trial(spec: StudySpec, best: FrozenTrial, *, show_params: bool) -> str:
    numbers = trial_numbers(best)
    facts = [f"{spec.metrics[0].name} {best.values[0]:.6g}"]
    if numbers.test_acc is not None:
        at = f" (model of epoch {numbers.best_epoch})" if numbers.best_epoch is not None else ""
        facts.append(f"test accuracy {numbers.test_acc:.4f}{at}")
    if numbers.num_params is not None:
        facts.append(f"{numbers.num_params:,} parameters")
    if numbers.epochs is not None:
        facts.append(f"{numbers.epochs} epochs")
    if numbers.seconds is not None:
        facts.append(f"{numbers.seconds:.1f} s")
    params = spec.trial_params(best.params)
    listed = (
        table(["param", "value"], [[name, _cell(value)] for name, value in params.items()])
        if show_params
        else element("p", "its params: in the summary above")
    )
    return (
        element("h3", f"best trial #{best.number}: " + ", ".join(facts))
        + listed
        + "<p>As a Dr.Opt config: "
        + element("code", f"hpo best {spec.name} --format dropt")
        + "</p>"
    )


def _top_table(spec: StudySpec, ranked: Sequence[FrozenTrial]) -> str:
    names = list(dict.fromkeys(name for t in ranked for name in spec.space.decode(t.params)))
    rows = []
    for t in ranked:
        numbers = trial_numbers(t)
        decoded = spec.space.decode(t.params)
        rows.append(
            [
                t.number,
                f"{t.values[0]:.6g}",
                None if numbers.test_acc is None else f"{numbers.test_acc:.4f}",
                numbers.epochs,
                None if numbers.seconds is None else f"{numbers.seconds:.1f}",
                *(_cell(decoded[n]) if n in decoded else None for n in names),
            ]
        )
    headers = ["trial", spec.metrics[0].name, "test acc", "epochs", "seconds", *names]
    # A number no trial has (test accuracy of a function objective) is no column.
    shown = [i for i in range(len(headers)) if any(row[i] is not None for row in rows)]
    return table([headers[i] for i in shown], [[row[i] for i in shown] for row in rows])


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _parallel(
    spec: StudySpec, complete: Sequence[FrozenTrial], best: FrozenTrial, target: Any
) -> Any:
    drawn = sample_with(complete, best, MAX_PARALLEL)
    # Parameter names and choice values are plotly text here (tick labels, annotations, hover
    # data): Figures escapes them as it writes the figure.
    figure = vis.plot_parallel_coordinate(
        in_memory_copy(spec.directions, drawn), target=target, target_name=spec.metrics[0].name
    )
    if len(drawn) < len(complete):
        figure.update_layout(
            title=f"Parallel coordinates: {len(drawn)} of {len(complete):,} complete trials "
            "(a seeded sample, the best included)"
        )
    return figure


def sample_with(trials: Sequence[FrozenTrial], keep: FrozenTrial, limit: int) -> list[FrozenTrial]:
    """At most ``limit`` of ``trials`` in their order: ``keep`` and a seeded sample of the rest."""
    if len(trials) <= limit:
        return list(trials)
    others = [t for t in trials if t.number != keep.number]
    chosen = {keep.number, *(t.number for t in random.Random(0).sample(others, limit - 1))}
    return [t for t in trials if t.number in chosen]


def epoch_curves(trials: Sequence[Any], metric: str) -> Any:
    """Per-epoch values, completed trials in blue and pruned ones in grey."""
    colours = {TrialState.COMPLETE: "#1f77b4", TrialState.PRUNED: "#aaaaaa"}
    shown: set[TrialState] = set()
    fig = go.Figure()
    drawn = [t for t in trials if t.intermediate_values and t.state in colours][-MAX_CURVES:]
    for t in drawn:
        steps = sorted(t.intermediate_values)
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=[t.intermediate_values[s] for s in steps],
                mode="lines",
                line={"color": colours[t.state], "width": 1},
                name=t.state.name.lower(),
                legendgroup=t.state.name,
                showlegend=t.state not in shown,
                hovertemplate=f"trial {t.number}<br>epoch %{{x}}<br>%{{y}}<extra></extra>",
            )
        )
        shown.add(t.state)
    fig.update_layout(  # the metric's name escaped as Figures writes the figure
        title=f"{metric} per epoch: completed and pruned trials",
        xaxis_title="epoch",
        yaxis_title=metric,
    )
    return fig
