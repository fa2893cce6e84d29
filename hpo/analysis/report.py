"""``hpo report``: one self-contained HTML file (and PNGs) answering "which tuner, which params".

Sections: the comparison of the tuners (table and best-so-far curves), parameter importance
(both methods, per tuner, with the notes on how far to trust each), then for the best run of
each tuner its optimisation history, its epoch curves (pruned trials apart from completed
ones), parallel coordinates and its best params, ready for ``hpo best --format dropt``.
plotly.js is inlined once, so the file opens offline and can be mailed.
"""

from __future__ import annotations

import html
import json
import logging
import math
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import optuna.visualization as vis
import plotly.graph_objects as go
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, TrialState

from hpo.analysis.compare import Comparison, compare_studies
from hpo.analysis.importance import importance_by_tuner
from hpo.analysis.load import load_trials, resolve_studies
from hpo.analysis.plots import curves_figure, importance_png, write_png
from hpo.analysis.tables import render_comparison, render_importance, render_per_tuner
from hpo.errors import HpoError
from hpo.optuna_compat import in_memory_copy
from hpo.study import StudySpec

log = logging.getLogger("hpo.report")

#: Epoch curves drawn per study at most (the latest trials): a 10,000-line plot helps nobody.
MAX_CURVES = 300
#: Lines in a parallel-coordinates plot at most: Optuna draws one plotly trace per trial, which
#: took 9 s and megabytes of HTML per 5,000-trial study; a seeded sample shows the same picture.
MAX_PARALLEL = 300


def write_report(
    storage: BaseStorage,
    names: Sequence[str],
    out_dir: Path,
    *,
    target: float | None = None,
    bootstrap: int = 20,
) -> Path:
    """Write ``report.html`` and its PNGs into ``out_dir``; returns the HTML file's path."""
    specs = resolve_studies(storage, names)
    trials = load_trials(storage, specs)  # read once for every section
    out_dir.mkdir(parents=True, exist_ok=True)
    sections: list[str] = []
    figures: list[Any] = []

    def figure(fig: Any) -> str:
        figures.append(fig)
        return f"<div class='figure'>{{figure-{len(figures) - 1}}}</div>"

    comparison: Comparison | None = None
    if not any(s.is_multi_objective for s in specs):
        comparison = compare_studies(specs, trials, target)
        write_png(comparison, out_dir / "compare.png")
        sections.append(
            "<h2>Comparison</h2>"
            + "".join(f"<p class='warning'>{html.escape(w)}</p>" for w in comparison.warnings)
            + _pre(render_comparison(comparison))
            + figure(curves_figure(comparison, "trial"))
            + figure(curves_figure(comparison, "seconds"))
            + "<p><img src='compare.png' alt='best so far per tuner' width='900'></p>"
        )

    try:
        importances = importance_by_tuner(specs, trials, bootstrap=bootstrap)
    except HpoError as exc:  # too few trials: the rest of the report still helps
        importances = []
        sections.append(f"<h2>Parameter importance</h2><p>{html.escape(str(exc))}</p>")
    if importances:
        importance_png(importances, out_dir / "importance.png")
        text = "\n\n".join(render_importance(r) for r in importances)
        if len(importances) > 1:
            text += "\n\nmost important parameter per tuner:\n" + render_per_tuner(importances)
        sections.append(
            "<h2>Parameter importance</h2>"
            + _pre(text)
            + "<p><img src='importance.png' alt='importance per tuner' width='900'></p>"
        )

    for spec in _best_run_per_tuner(specs, trials):
        sections.append(_study_section(spec, trials[spec.name], figure))

    title = "hpo report: " + ", ".join(names)
    body = "\n".join(sections)
    for n, fig in enumerate(figures):
        body = body.replace(
            f"{{figure-{n}}}", fig.to_html(full_html=False, include_plotlyjs=(n == 0))
        )
    path = out_dir / "report.html"
    path.write_text(
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>",
        encoding="utf-8",
    )
    return path


STYLE = (
    "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
    "pre{background:#f6f6f6;padding:1em;overflow-x:auto}h2{border-bottom:1px solid #ccc}"
    ".warning{background:#fff3cd;border-left:4px solid #e0a800;padding:.5em 1em}"
)


def _pre(text: str) -> str:
    return f"<pre>{html.escape(text)}</pre>"


def _best_run_per_tuner(
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


def _study_section(spec: StudySpec, trials: Sequence[FrozenTrial], figure: Any) -> str:
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    parts = [f"<h2>{html.escape(spec.name)} ({html.escape(spec.sampler.name)})</h2>"]
    if not complete:
        return parts[0] + "<p>no complete trial yet</p>"
    metric = spec.metrics[0].name
    target = None if not spec.is_multi_objective else (lambda t: t.values[0])
    history = vis.plot_optimization_history(
        in_memory_copy(spec.directions, trials), target=target, target_name=metric
    )
    parts.append(figure(history))
    if any(t.intermediate_values for t in trials):
        parts.append(figure(_epoch_curves(trials, metric)))
    maximize = spec.directions[0] == "maximize"
    best = max(complete, key=lambda t: t.values[0] if maximize else -t.values[0])
    if len(complete) > 1 and complete[0].params:
        drawn = _sample_with(complete, best, MAX_PARALLEL)
        parallel = vis.plot_parallel_coordinate(
            in_memory_copy(spec.directions, drawn), target=target, target_name=metric
        )
        if len(drawn) < len(complete):
            parallel.update_layout(
                title=f"Parallel coordinates: {len(drawn)} of {len(complete):,} complete trials "
                "(a seeded sample, the best included)"
            )
        parts.append(figure(parallel))
    params = spec.trial_params(best.params)
    parts.append(
        f"<h3>best trial #{best.number}: {metric} {best.values[0]:.6g}</h3>"
        + _pre(json.dumps(params, indent=2, default=str))
        + f"<p>As a Dr.Opt config: <code>hpo best {html.escape(spec.name)} "
        "--format dropt</code></p>"
    )
    return "\n".join(parts)


def _sample_with(trials: Sequence[FrozenTrial], keep: FrozenTrial, limit: int) -> list[FrozenTrial]:
    """At most ``limit`` of ``trials`` in their order: ``keep`` and a seeded sample of the rest."""
    if len(trials) <= limit:
        return list(trials)
    others = [t for t in trials if t.number != keep.number]
    chosen = {keep.number, *(t.number for t in random.Random(0).sample(others, limit - 1))}
    return [t for t in trials if t.number in chosen]


def _epoch_curves(trials: Sequence[Any], metric: str) -> Any:
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
    fig.update_layout(
        title=f"{metric} per epoch: completed and pruned trials",
        xaxis_title="epoch",
        yaxis_title=metric,
    )
    return fig
