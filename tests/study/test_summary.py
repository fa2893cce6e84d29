"""``hpo status``'s figures: a study hpo cannot read is listed as such, the others in full."""

from __future__ import annotations

from pathlib import Path

import optuna

from hpo import attrs
from hpo.storage import open_storage
from hpo.study import Overrides, build_spec, create_study, parse_config
from hpo.study.summary import summaries


def test_a_damaged_spec_is_named_and_the_other_studies_keep_their_figures(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'hpo.db'}"
    storage = open_storage(url)
    config = {
        "config": {"experimentName": "good"},
        "search_space": {"x": {"_type": "uniform", "_value": [0, 1]}},
    }
    spec, _ = build_spec(parse_config(config), Overrides(objective="math:sqrt"))
    create_study(storage, spec)
    optuna.create_study(study_name="bad", storage=url).set_user_attr(attrs.SPEC, "garbage")
    optuna.create_study(study_name="plain", storage=url)

    listed = {s.name: s for s in summaries(storage)}
    assert listed["good"].kind == "hpo" and listed["good"].spec == spec
    assert listed["bad"].kind == "unreadable" and listed["bad"].spec is None
    assert "study 'bad' is damaged" in (listed["bad"].unreadable or "")
    assert listed["plain"].kind == "optuna" and listed["plain"].unreadable is None
