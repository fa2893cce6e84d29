"""Figures of a comparison: best-so-far curves against trial number and against compute time;
and of importance, one bar chart per tuner.

PNG (matplotlib, for papers and reports) and interactive HTML (plotly, self-contained: the
file opens offline). One line per study, one colour per tuner.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path

import plotly.graph_objects as go
from matplotlib.figure import Figure

from hpo.analysis.compare import Comparison
from hpo.analysis.importance_result import StudyImportance
from hpo.analysis.report_html import figure_html
from hpo.analysis.report_html import label as plotly_label

X_AXES = (("trial", "trials finished"), ("seconds", "compute (s)"))


def _series(comparison: Comparison, axis: str) -> list[tuple[str, str, list[float], list[float]]]:
    """(tuner, study, x, best-so-far) per run, from its first complete trial on."""
    out = []
    for run in comparison.runs:
        xs, ys = [], []
        for n, (spent, best) in enumerate(run.curve(), 1):
            if not math.isnan(best):
                xs.append(float(n) if axis == "trial" else spent)
                ys.append(best)
        out.append((run.sampler, run.study, xs, ys))
    return out


def write_png(comparison: Comparison, path: Path) -> Path:
    tuners = sorted({r.sampler for r in comparison.runs})
    colours = {t: f"C{i}" for i, t in enumerate(tuners)}
    # A Figure of its own rather than pyplot's: no global state, no screen needed (GPU nodes).
    figure = Figure(figsize=(12, 4.5), layout="constrained")
    axes = figure.subplots(1, 2)
    for ax, (axis, label) in zip(axes, X_AXES, strict=True):
        labelled: set[str] = set()
        for tuner, _study, xs, ys in _series(comparison, axis):
            ax.step(
                xs,
                [_drawable(y) for y in ys],
                where="post",
                color=colours[tuner],
                alpha=0.8,
                label=None if tuner in labelled else tuner,
            )
            labelled.add(tuner)
        if comparison.target is not None:
            ax.axhline(_drawable(comparison.target), color="grey", linestyle="--", linewidth=1)
        ax.set_xlabel(label)
        ax.set_ylabel("best so far")
        ax.grid(alpha=0.3)
        ax.legend()
    figure.suptitle("best value so far, per tuner (one line per run)")
    figure.savefig(path, dpi=120)
    return path


def curves_figure(comparison: Comparison, axis: str) -> go.Figure:
    """A plotly figure of the best-so-far curves against ``axis`` ("trial" or "seconds")."""
    label = dict(X_AXES)[axis]
    tuners = sorted({r.sampler for r in comparison.runs})
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]
    colours = {t: palette[i % len(palette)] for i, t in enumerate(tuners)}
    figure = go.Figure()
    shown: set[str] = set()
    for tuner, study, xs, ys in _series(comparison, axis):
        figure.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                line={"shape": "hv", "color": colours[tuner]},
                name=tuner,
                legendgroup=tuner,
                showlegend=tuner not in shown,
                hovertemplate=(
                    f"{plotly_label(study)}<br>{label} %{{x}}<br>best %{{y}}<extra></extra>"
                ),
            )
        )
        shown.add(tuner)
    if comparison.target is not None:
        figure.add_hline(y=comparison.target, line_dash="dash", line_color="grey")
    figure.update_layout(
        title=f"best value so far against {label}", xaxis_title=label, yaxis_title="best so far"
    )
    return figure


def write_html(comparison: Comparison, path: Path) -> Path:
    """Both curve figures in one self-contained HTML file."""
    parts = [
        figure_html(curves_figure(comparison, axis), include_plotlyjs=(n == 0))
        for n, (axis, _) in enumerate(X_AXES)
    ]
    path.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>hpo compare</title></head>"
        f"<body>{''.join(parts)}</body></html>",
        encoding="utf-8",
    )
    return path


def importance_png(results: Sequence[StudyImportance]) -> bytes:
    """PED-ANOVA per tuner as bars, with their intervals where they have one, as a PNG."""
    figure = Figure(figsize=(5 * len(results), 3.5), layout="constrained")
    axes = figure.subplots(1, len(results), squeeze=False)
    for ax, result in zip(axes[0], results, strict=True):
        estimates = [(r.param, r.ped_anova) for r in result.rows if r.ped_anova is not None]
        estimates.reverse()  # the most important on top
        errors = [
            [e.value - e.low if e.low is not None else 0.0 for _, e in estimates],
            [e.high - e.value if e.high is not None else 0.0 for _, e in estimates],
        ]
        names = [_plain(p) for p, _ in estimates]
        ax.barh(names, [e.value for _, e in estimates], xerr=errors)
        where = f"epoch {result.epoch}" if result.epoch is not None else "final values"
        ax.set_title(f"{result.sampler}: PED-ANOVA ({where})")
        ax.set_xlabel("importance (5–95 % interval where shown)")
    png = io.BytesIO()
    figure.savefig(png, format="png", dpi=110)
    return png.getvalue()


#: matplotlib computes the width of an axis: values near the largest float (a result of 1e308)
#: overflow it, and the figure fails. They are drawn at this bound instead.
DRAWABLE = 1e300


def _drawable(value: float) -> float:
    return max(-DRAWABLE, min(DRAWABLE, value))


def _plain(text: str) -> str:
    """A user's name as matplotlib text: a ``$`` would start its math mode (and fail)."""
    return text.replace("$", r"\$")
