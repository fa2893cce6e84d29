"""The analysis results as terminal text: ``hpo compare`` and ``hpo importance`` print these,
and ``hpo report`` quotes them."""

from __future__ import annotations

import math
from collections.abc import Sequence

from hpo.analysis.compare import Comparison
from hpo.analysis.importance import UNBIASED_SAMPLERS, Estimate, StudyImportance
from hpo.text import table

Cells = list[list[str | int | None]]


def render_comparison(comparison: Comparison) -> str:
    """The comparison as a terminal table, the rank test and the notes below it (its warnings
    are for the caller to show where warnings go)."""
    headers, rows = comparison_table(comparison)
    return "\n".join([table(headers, rows), *comparison_notes(comparison)])


def comparison_table(comparison: Comparison) -> tuple[list[str], Cells]:
    """The comparison's headers and rows, one per tuner (the terminal's and the report's)."""

    def fmt(x: float | None, spec: str = ".4g") -> str | None:
        return None if x is None or math.isnan(x) else format(x, spec)

    n_runs = {r.sampler: len(r.studies) for r in comparison.rows}
    rows: Cells = []
    for r in comparison.rows:
        best = fmt(r.best_mean)
        if best is not None and len(r.best) > 1:
            best = f"{best} ± {r.best_std:.2g}"
        rows.append(
            [
                r.sampler,
                n_runs[r.sampler],
                r.complete,
                r.pruned,
                r.failed,
                best,
                None if comparison.target is None else f"{r.reached}/{n_runs[r.sampler]}",
                fmt(r.trials_to_target, ".3g"),
                fmt(r.seconds_to_target, ".4g"),
                fmt(r.mean_best_so_far),
                fmt(r.mean_rank, ".2f"),
            ]
        )
    headers = [
        "tuner",
        "runs",
        "complete",
        "pruned",
        "failed",
        "best (mean ± sd)",
        "reached",
        "trials→target",
        "seconds→target",
        f"mean best@{comparison.horizon}",
        "mean rank",
    ]
    return headers, rows


def comparison_notes(comparison: Comparison) -> list[str]:
    """What the table's numbers are, the rank test's verdict and the comparison's notes."""
    n_runs = {r.sampler: len(r.studies) for r in comparison.rows}
    lines = []
    if comparison.target is not None:
        lines.append(
            f"target {comparison.target:g}: medians over the runs that reached it; "
            "compute is the trials' wall-clock time in the order they finished"
        )
    test = comparison.test
    if test is not None:
        verdict = "differ" if test.p_value < 0.05 else "no significant difference"
        line = f"{test.method}: statistic {test.statistic:.3g}, p = {test.p_value:.3g} ({verdict})"
        lines.append(line + (f"; {test.note}" if test.note else ""))
    elif max(n_runs.values(), default=0) < 2:
        lines.append("one run per tuner: no rank test (create the group with --repeats K)")
    lines.extend(f"note: {note}" for note in comparison.notes)
    return lines


def render_importance(result: StudyImportance) -> str:
    headers, rows = importance_table(result)
    lines = [f"{result.study} ({result.sampler}): {importance_basis(result)}", table(headers, rows)]
    lines.extend(f"note: {note}" for note in importance_notes(result))
    return "\n".join(lines)


def importance_basis(result: StudyImportance) -> str:
    """What the estimates explain and how their intervals were made, in words."""
    how = (
        "median and 5–95 % interval over half-samples"
        if any(r.ped_anova and r.ped_anova.has_interval for r in result.rows)
        else "estimates on all trials, no interval"
    )
    return f"importance for {result.target}; {how}"


def importance_table(result: StudyImportance) -> tuple[list[str], Cells]:
    """One row per parameter: its PED-ANOVA and fANOVA shares (with intervals)."""
    rows: Cells = [
        [
            r.param,
            estimate_text(r.ped_anova),
            (f"{estimate_text(r.fanova)} (within branch)" if r.fanova else None)
            if r.within_branch
            else estimate_text(r.fanova),
        ]
        for r in result.rows
    ]
    return ["param", "PED-ANOVA", "fANOVA"], rows


def importance_notes(result: StudyImportance) -> list[str]:
    """The notes on what the numbers are, then the reasons to doubt them."""
    return [*result.notes, *(flag.text for flag in result.flags)]


def estimate_text(e: Estimate | None) -> str | None:
    """``0.62 [0.41, 0.80]``, ``0.62`` without an interval, None without an estimate."""
    if e is None:
        return None
    if e.low is None or e.high is None:
        return f"{e.value:.2f}"
    return f"{e.value:.2f} [{e.low:.2f}, {e.high:.2f}]"


def render_per_tuner(results: Sequence[StudyImportance]) -> str:
    """The Food-11 report's question, "which parameter mattered most", per tuner, with how
    far to trust each answer."""
    headers, rows = per_tuner_table(results)
    text = table(headers, rows)
    if tuners_disagree(results):
        text += "\nnote: " + TUNERS_DISAGREE
    return text


TUNERS_DISAGREE = (
    "the tuners disagree on the most important parameter; trust the unbiased (random / qmc) one"
)


def tuners_disagree(results: Sequence[StudyImportance]) -> bool:
    return len({r.top("ped_anova") for r in results}) > 1


def per_tuner_table(results: Sequence[StudyImportance]) -> tuple[list[str], Cells]:
    rows: Cells = []
    for r in results:
        top = r.top("ped_anova")
        row = next((x for x in r.rows if x.param == top), None)
        reliable = (
            "yes"
            if r.sampler in UNBIASED_SAMPLERS and not r.flagged("unstable")
            else "no: " + _why_unreliable(r)
        )
        rows.append(
            [
                r.sampler,
                r.study,
                top,
                None if row is None or row.ped_anova is None else f"{row.ped_anova.value:.2f}",
                r.top("fanova"),
                reliable,
            ]
        )
    return ["tuner", "study", "most important", "share", "fANOVA's", "reliable"], rows


def _why_unreliable(r: StudyImportance) -> str:
    if r.flagged("concentrated"):
        return "sampling concentrated"
    if r.flagged("unstable"):
        return "bootstrap unstable"
    return "model-based sampling"
