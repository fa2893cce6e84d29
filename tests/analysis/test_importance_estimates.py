"""Importance estimates and their flags, in process, on trials whose answer is known."""

from __future__ import annotations

import random

import pytest
from optuna.distributions import FloatDistribution
from optuna.trial import FrozenTrial, TrialState, create_trial

from hpo.analysis import render_importance, render_per_tuner, study_importance
from hpo.analysis.importance import sampling_spread
from hpo.errors import HpoError
from hpo.study import Overrides, StudySpec, build_spec, parse_config

SPACE = {name: {"_type": "uniform", "_value": [0, 1]} for name in ("x", "y", "z")}
UNIT = FloatDistribution(0, 1)


def spec(sampler: str) -> StudySpec:
    built, _ = build_spec(
        parse_config({"config": {"experimentName": "imp"}, "search_space": SPACE}),
        Overrides(sampler=sampler, objective="math:sqrt"),
    )
    return built


def linear_trials(
    n: int, seed: int = 0, spread: float = 1.0, state: TrialState = TrialState.COMPLETE
) -> list[FrozenTrial]:
    """f = 2x + y + 0·z: x carries 4/5 of the variance, y 1/5, z none."""
    rng = random.Random(seed)
    trials = []
    for number in range(n):
        x, y, z = (0.5 + spread * (rng.random() - 0.5) for _ in range(3))
        done = create_trial(
            state=state,
            value=2 * x + y if state == TrialState.COMPLETE else None,
            params={"x": x, "y": y, "z": z},
            distributions={"x": UNIT, "y": UNIT, "z": UNIT},
        )
        done.number = number
        trials.append(done)
    return trials


def test_the_parameter_that_matters_ranks_first_with_an_interval_apart_from_noise() -> None:
    result = study_importance(spec("random"), linear_trials(80), bootstrap=8)
    assert result.top("ped_anova") == result.top("fanova") == "x"
    rows = {r.param: r for r in result.rows}
    for method in ("ped_anova", "fanova"):
        x, z = getattr(rows["x"], method), getattr(rows["z"], method)
        # (Half-samples can put the point estimate outside its own interval: issue 13.)
        assert x.low <= x.high and x.low > z.high
    assert result.flags == []  # random sampling, stable, methods agree: nothing to doubt
    assert "x" in render_importance(result).splitlines()[3]  # the first row of the table


def test_a_model_based_tuners_ranking_is_flagged_by_kind() -> None:
    tpe = study_importance(spec("tpe"), linear_trials(40), bootstrap=4)
    assert tpe.flagged("model_based") and not tpe.flagged("concentrated")
    narrow = study_importance(spec("tpe"), linear_trials(40, spread=0.2), bootstrap=4)
    assert narrow.flagged("concentrated")
    assert any("concentrated" in f.text for f in narrow.flags)
    unbiased = study_importance(spec("random"), linear_trials(40), bootstrap=4)
    table = render_per_tuner([unbiased, narrow])
    assert "no: sampling concentrated" in table and "yes" in table


def test_the_spread_of_uniform_sampling_is_about_0_29() -> None:
    assert sampling_spread(linear_trials(400)) == pytest.approx(0.29, abs=0.03)
    assert sampling_spread(linear_trials(400, spread=0.2)) == pytest.approx(0.058, abs=0.01)


def test_too_few_complete_trials_is_one_clear_error() -> None:
    trials = linear_trials(7)
    with pytest.raises(HpoError, match="has 7 complete trials; importance needs at least 8"):
        study_importance(spec("random"), trials)
    pruned = linear_trials(20, state=TrialState.PRUNED)
    with pytest.raises(HpoError, match="has 7 complete"):
        study_importance(spec("random"), [*trials, *pruned])
