"""``hpo report``: one self-contained HTML file answering "what was found, which params".

Sections: a summary (the best value and its params, test accuracy where recorded, each
study's trials by state and time used and left: ``report_summary``); for a group of several
tuners, their comparison (table and best-so-far curves, with its warnings and notes);
parameter importance (a headline, the methods' disagreement, the details: ``report_importance``);
then for the best run of each tuner its optimisation history, its epoch curves (pruned trials
apart from completed ones), parallel coordinates, its best trial with the numbers users
report, its top trials and its search space (``report_study``).

The file is all there is: plotly.js is inlined once and the matplotlib chart is a data: URI,
so it opens offline, fetches nothing, and can be mailed alone (plotly.js makes it about 5 MB).
Every name in it is escaped (``report_html``).
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
from hpo.analysis.plots import curves_figure
from hpo.analysis.report_html import Figures, element, page, table
from hpo.analysis.report_importance import importance_section
from hpo.analysis.report_study import best_run_per_tuner, study_section
from hpo.analysis.report_summary import best_trial, summary_section
from hpo.analysis.tables import comparison_notes, comparison_table
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
    """Write ``report.html`` into ``out_dir``; returns its path."""
    specs = resolve_studies(storage, names)
    output_folder(out_dir)
    trials = load_trials(storage, specs)  # read once for every section
    sections = [summary_section(storage, specs, trials)]
    figures = Figures()

    # One study has nothing to compare with: its history below is its best-so-far curve.
    if len(specs) > 1 and not any(s.is_multi_objective for s in specs):
        comparison = compare_studies(specs, trials, target)
        headers, rows = comparison_table(comparison)
        sections.append(
            element("h2", "Comparison")
            + "".join(element("p", w, "warning") for w in comparison.warnings)
            + table(headers, rows)
            + "".join(element("p", note, "note") for note in comparison_notes(comparison))
            + figures.html(curves_figure(comparison, "trial"))
            + figures.html(curves_figure(comparison, "seconds"))
        )

    try:
        importances = importance_by_tuner(specs, trials, bootstrap=bootstrap)
    except HpoError as exc:  # too few trials: the rest of the report still helps
        sections.append(element("h2", "Parameter importance") + element("p", str(exc)))
    else:
        if importances:
            sections.append(importance_section(importances))

    best = best_trial(specs, trials)
    for spec in best_run_per_tuner(specs, trials):
        shown = best[1].number if best is not None and best[0].name == spec.name else None
        sections.append(study_section(spec, trials[spec.name], figures, params_shown=shown))

    path = out_dir / "report.html"
    with writing(out_dir):
        path.write_text(page("hpo report: " + ", ".join(names), sections), encoding="utf-8")
    return path
