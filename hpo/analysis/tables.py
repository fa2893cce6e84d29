"""The analysis results as terminal text: ``hpo compare`` and ``hpo importance`` print these,
and ``hpo report`` quotes them."""

from __future__ import annotations

import math
from collections.abc import Sequence

from hpo.analysis.compare import Comparison
from hpo.analysis.importance import UNBIASED_SAMPLERS, Estimate, StudyImportance
from hpo.text import table


def render_comparison(comparison: Comparison) -> str:
    """The comparison as a terminal table, the rank test and the notes below it (its warnings
    are for the caller to show where warnings go)."""

    def fmt(x: float | None, spec: str = ".4g") -> str | None:
        return None if x is None or math.isnan(x) else format(x, spec)

    n_runs = {r.sampler: len(r.studies) for r in comparison.rows}
    rows = []
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
    text = table(
        [
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
        ],
        rows,
    )
    lines = [text]
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
    elif max(n_runs.values()) < 2:
        lines.append("one run per tuner: no rank test (create the group with --repeats K)")
    lines.extend(f"note: {note}" for note in comparison.notes)
    return "\n".join(lines)


def render_importance(result: StudyImportance) -> str:
    def fmt(e: Estimate | None) -> str | None:
        if e is None:
            return None
        if e.low is None or e.high is None:
            return f"{e.value:.2f}"
        return f"{e.value:.2f} [{e.low:.2f}, {e.high:.2f}]"

    rows = [
        [
            r.param,
            fmt(r.ped_anova),
            (f"{fmt(r.fanova)} (within branch)" if r.fanova else None)
            if r.within_branch
            else fmt(r.fanova),
        ]
        for r in result.rows
    ]
    how = (
        "median and 5–95 % interval over half-samples"
        if any(r.ped_anova and r.ped_anova.has_interval for r in result.rows)
        else "estimates on all trials, no interval"
    )
    lines = [
        f"{result.study} ({result.sampler}): importance for {result.target}; {how}",
        table(["param", "PED-ANOVA", "fANOVA"], rows),
    ]
    lines.extend(f"note: {note}" for note in result.notes)
    lines.extend(f"note: {flag.text}" for flag in result.flags)
    return "\n".join(lines)


def render_per_tuner(results: Sequence[StudyImportance]) -> str:
    """The Food-11 report's question, "which parameter mattered most", per tuner, with how
    far to trust each answer."""
    rows = []
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
    text = table(["tuner", "study", "most important", "share", "fANOVA's", "reliable"], rows)
    if len({r.top("ped_anova") for r in results}) > 1:
        text += (
            "\nnote: the tuners disagree on the most important parameter; trust the unbiased "
            "(random / qmc) one"
        )
    return text


def _why_unreliable(r: StudyImportance) -> str:
    if r.flagged("concentrated"):
        return "sampling concentrated"
    if r.flagged("unstable"):
        return "bootstrap unstable"
    return "model-based sampling"
