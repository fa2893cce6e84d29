"""Reading a finished (or running) search: compare tuners, explain importance, report.

- ``load``: the studies a name stands for (a study, or a comparison group), their trials;
- ``compare``: which tuner found the better model, how fast, how sure (statistics);
  ``caveats``: what it must say about itself (an unfinished group, trials equal by seed);
- ``importance``: which parameter mattered, by PED-ANOVA and fANOVA, with flags and notes;
  ``importance_target`` (final values, or a pruned study's deepest common epoch),
  ``importance_estimate`` (half-sample medians and intervals), ``importance_result``;
- ``tables``: both as terminal text; ``plots``: best-so-far curves and importance bars;
- ``trial_numbers``: what users report of a trial (test accuracy, parameters, epochs, time);
- ``report``: everything in one self-contained HTML file (``report_study`` per study,
  ``report_html`` its escaped markup), written where ``output`` says.
"""

from __future__ import annotations

from hpo.analysis.compare import Comparison, Run, compare, compare_studies, runs_from
from hpo.analysis.importance import StudyImportance, importance_by_tuner, study_importance
from hpo.analysis.load import load_trials, resolve_studies
from hpo.analysis.tables import render_comparison, render_importance, render_per_tuner

__all__ = [
    "Comparison",
    "Run",
    "StudyImportance",
    "compare",
    "compare_studies",
    "importance_by_tuner",
    "load_trials",
    "render_comparison",
    "render_importance",
    "render_per_tuner",
    "resolve_studies",
    "runs_from",
    "study_importance",
]
