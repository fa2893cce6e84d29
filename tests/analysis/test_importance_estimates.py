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
    n: int,
    seed: int = 0,
    spread: float = 1.0,
    state: TrialState = TrialState.COMPLETE,
    noise: float = 0.0,
) -> list[FrozenTrial]:
    """f = 2x + y + 0·z (+ noise): x carries 4/5 of the variance, y 1/5, z none."""
    rng = random.Random(seed)
    trials = []
    for number in range(n):
        x, y, z = (0.5 + spread * (rng.random() - 0.5) for _ in range(3))
        value = 2 * x + y + (noise * rng.gauss(0, 1) if noise else 0.0)
        done = create_trial(
            state=state,
            value=value if state == TrialState.COMPLETE else None,
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
        assert x.low > z.high
    assert result.flags == []  # random sampling, stable, methods agree: nothing to doubt
    assert "x" in render_importance(result).splitlines()[3]  # the first row of the table


@pytest.mark.parametrize(("n", "seed"), [(16, 0), (24, 1), (40, 2), (80, 3), (200, 4)])
def test_every_estimate_lies_inside_its_interval(n: int, seed: int) -> None:
    # Noise on the objective, as real training has, so that the estimates vary.
    noisy = linear_trials(n, seed=seed, noise=0.5)
    result = study_importance(spec("random"), noisy, bootstrap=12, seed=seed)
    estimates = [e for r in result.rows for e in (r.ped_anova, r.fanova) if e is not None]
    assert len(estimates) == 6
    for e in estimates:
        assert e.low is not None and e.high is not None
        assert e.low <= e.value <= e.high, e
    assert result.interval_note is None


@pytest.mark.parametrize("n", [8, 12, 15])
def test_too_few_trials_for_an_interval_is_said_not_shown_as_certainty(n: int) -> None:
    result = study_importance(spec("random"), linear_trials(n), bootstrap=20)
    for row in result.rows:
        for e in (row.ped_anova, row.fanova):
            assert e is not None and e.low is None and e.high is None
    text = render_importance(result)
    assert f"no intervals: {n} trials are too few" in text
    assert "[" not in text.split("\n", 2)[2]  # no "0.45 [0.45, 0.45]" in the table
    assert result.to_json()["params"][0]["ped_anova"]["low"] is None


def test_no_half_samples_asked_gives_estimates_on_all_trials_without_interval() -> None:
    result = study_importance(spec("random"), linear_trials(40), bootstrap=0)
    assert all(r.ped_anova is not None and not r.ped_anova.has_interval for r in result.rows)
    assert "no intervals: 0 half-samples asked" in render_importance(result)
    # PED-ANOVA once on the complete trials' final values: what optuna-dashboard draws.
    assert result.dashboard is not None and result.dashboard.same_method
    assert not any("optuna-dashboard" in note for note in result.notes)


def test_the_output_says_how_the_dashboard_differs() -> None:
    result = study_importance(spec("random"), linear_trials(40), bootstrap=4)
    assert result.dashboard is not None and not result.dashboard.same_method
    assert result.dashboard.complete == 40 and result.dashboard.top == "x"
    [note] = [n for n in result.notes if "optuna-dashboard" in n]
    assert "PED-ANOVA once on the final values of the 40 complete trials" in note
    assert "ranks x first" in note
    assert result.to_json()["dashboard"]["top"] == "x"


def test_a_pruned_study_is_explained_at_the_deepest_epoch_enough_trials_reached() -> None:
    # Like the quick start: 2 of 20 trials complete (12 epochs), the others pruned at epoch 3
    # (8 of them) or at epoch 6 (10 of them); only epochs 1 to 6 have 8 trials or more.
    trials = linear_trials(20, noise=0.1)
    for t in trials:
        final = t.value
        assert final is not None
        depth = 12 if t.number < 2 else 3 if t.number < 10 else 6
        t.intermediate_values = {e: final * e / 12 for e in range(1, depth + 1)}
        if depth < 12:
            t.state, t.values = TrialState.PRUNED, None
    result = study_importance(spec("random"), trials, bootstrap=8)
    assert result.epoch == 6 and result.trials == 12 and result.complete == 2
    assert result.top("ped_anova") == "x"
    text = render_importance(result)
    assert "default at epoch 6, the deepest epoch that 12 trials reached (2 complete" in text
    assert result.to_json()["epoch"] == 6
    # The dashboard explains the 2 complete trials' final values: the output says so.
    assert any("final values of the 2 complete trials" in n for n in result.notes)


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
    # Pruned trials without epochs explain nothing either.
    pruned = linear_trials(20, state=TrialState.PRUNED)
    with pytest.raises(HpoError, match="has 7 complete"):
        study_importance(spec("random"), [*trials, *pruned])
