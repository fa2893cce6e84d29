"""``hpo report``: one self-contained HTML file (and PNGs) answering "which tuner, which params".

Sections: the comparison of the tuners (table and best-so-far curves, with its warnings and
notes), parameter importance (both methods, per tuner, with the notes on how far to trust
each), then for the best run of each tuner its optimisation history, its epoch curves (pruned
trials apart from completed ones), parallel coordinates, its best trial with the numbers users
report, its top trials and its search space (``report_study``). plotly.js is inlined once, so
the file opens offline and can be mailed. Every name in it is escaped (``report_html``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from optuna.storages import BaseStorage

from hpo.analysis.compare import compare_studies
from hpo.analysis.importance import importance_by_tuner
from hpo.analysis.load import load_trials, resolve_studies
from hpo.analysis.output import output_folder, writing
from hpo.analysis.plots import curves_figure, importance_png, write_png
from hpo.analysis.report_html import Figures, element, image, page, pre
from hpo.analysis.report_study import best_run_per_tuner, study_section
from hpo.analysis.tables import render_comparison, render_importance, render_per_tuner
from hpo.errors import HpoError

log = logging.getLogger("hpo.report")


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
    output_folder(out_dir)
    trials = load_trials(storage, specs)  # read once for every section
    sections: list[str] = []
    figures = Figures()

    with writing(out_dir):
        if not any(s.is_multi_objective for s in specs):
            comparison = compare_studies(specs, trials, target)
            write_png(comparison, out_dir / "compare.png")
            sections.append(
                element("h2", "Comparison")
                + "".join(element("p", w, "warning") for w in comparison.warnings)
                + pre(render_comparison(comparison))
                + figures.html(curves_figure(comparison, "trial"))
                + figures.html(curves_figure(comparison, "seconds"))
                + image("compare.png", "best so far per tuner")
            )

        try:
            importances = importance_by_tuner(specs, trials, bootstrap=bootstrap)
        except HpoError as exc:  # too few trials: the rest of the report still helps
            importances = []
            sections.append(element("h2", "Parameter importance") + element("p", str(exc)))
        if importances:
            importance_png(importances, out_dir / "importance.png")
            text = "\n\n".join(render_importance(r) for r in importances)
            if len(importances) > 1:
                text += "\n\nmost important parameter per tuner:\n" + render_per_tuner(importances)
            sections.append(
                element("h2", "Parameter importance")
                + pre(text)
                + image("importance.png", "importance per tuner")
            )

        for spec in best_run_per_tuner(specs, trials):
            sections.append(study_section(spec, trials[spec.name], figures))

        path = out_dir / "report.html"
        path.write_text(page("hpo report: " + ", ".join(names), sections), encoding="utf-8")
    return path
