"""Studies: the stored spec, config files in and out, creating and finding studies, budgets,
comparison groups, seeds.

- ``spec``: :class:`StudySpec`, everything a worker needs, stored with the study as
  versioned JSON;
- ``config_file`` and ``config_keys``: reading an NNI space or a Dr.Opt config unchanged;
  ``export``: writing a study back out as one (``hpo best --format dropt``);
- ``overrides`` and ``build``: the command line on top of a file → a validated spec;
- ``groups``: one study per sampler and repeat, for comparing tuners;
- ``store``: create a study once, find it, read its spec, stop and resume it;
- ``budget``: study-wide budgets, and changing them while workers run;
- ``clock``: the time budget's clock (runs from the first trial, pauses while stopped) and
  where a study stands (not started, running, stopped, done);
- ``summary``: ``hpo status`` (imported by name: it reads the storage's counts);
- ``seeds``: every random stream from the study seed.
"""

from __future__ import annotations

from hpo.study.budget import budget_text, change_budget, grid_budget
from hpo.study.build import DEFAULT_PRUNER, DEFAULT_SAMPLER, build_spec
from hpo.study.clock import (
    BudgetClock,
    pause_clock,
    read_clock,
    start_clock,
    study_state,
    time_left,
    time_text,
)
from hpo.study.config_file import SearchConfig, load_file, parse_config
from hpo.study.config_keys import parse_duration
from hpo.study.export import best, dropt_config, trial_json
from hpo.study.groups import Plan, build_group, group_members, member_name, plan_studies
from hpo.study.overrides import Overrides, parse_overrides
from hpo.study.seeds import derive_seed, new_study_seed
from hpo.study.spec import SPEC_VERSION, Liveness, StudySpec
from hpo.study.store import (
    Created,
    create_study,
    find_study_id,
    is_stopped,
    load_optuna_study,
    load_spec,
    load_study_id,
    read_spec,
    set_stopped,
)

__all__ = [
    "DEFAULT_PRUNER",
    "DEFAULT_SAMPLER",
    "SPEC_VERSION",
    "BudgetClock",
    "Created",
    "Liveness",
    "Overrides",
    "Plan",
    "SearchConfig",
    "StudySpec",
    "best",
    "budget_text",
    "build_group",
    "build_spec",
    "change_budget",
    "create_study",
    "derive_seed",
    "dropt_config",
    "find_study_id",
    "grid_budget",
    "group_members",
    "is_stopped",
    "load_file",
    "load_optuna_study",
    "load_spec",
    "load_study_id",
    "member_name",
    "new_study_seed",
    "parse_config",
    "parse_duration",
    "parse_overrides",
    "pause_clock",
    "plan_studies",
    "read_clock",
    "read_spec",
    "set_stopped",
    "start_clock",
    "study_state",
    "time_left",
    "time_text",
    "trial_json",
]
