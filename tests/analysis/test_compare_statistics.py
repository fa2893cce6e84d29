"""The comparison's statistics, in process, on trials whose figures are known in advance."""

from __future__ import annotations

import datetime
import math

import pytest
from optuna.distributions import FloatDistribution
from optuna.trial import FrozenTrial, TrialState, create_trial
from scipy.stats import friedmanchisquare, wilcoxon

from hpo.analysis import Run, compare, render_comparison
from hpo.analysis.compare import _mean_best_so_far
from hpo.errors import InvalidInputError

T0 = datetime.datetime(2026, 1, 1)


def trial(state: TrialState, seconds: float, value: float | None = None) -> FrozenTrial:
    start = T0
    done = create_trial(
        state=state,
        value=value,
        params={"x": 0.5},
        distributions={"x": FloatDistribution(0, 1)},
    )
    done.datetime_start = start
    done.datetime_complete = start + datetime.timedelta(seconds=seconds)
    return done


def run(sampler: str, repeat: int, values: list[float], maximize: bool = True) -> Run:
    """A run of complete trials of one second each, with these values in this order."""
    trials = [trial(TrialState.COMPLETE, 1.0, v) for v in values]
    return Run(f"s-{sampler}-r{repeat}", sampler, repeat, maximize, trials)


def test_the_best_so_far_curve_counts_compute_and_skips_what_did_not_complete() -> None:
    trials = [
        trial(TrialState.FAIL, 2.0),
        trial(TrialState.COMPLETE, 3.0, 0.3),
        trial(TrialState.PRUNED, 1.0),
        trial(TrialState.COMPLETE, 2.0, 0.5),
        trial(TrialState.COMPLETE, 1.0, 0.4),
    ]
    maximizing = Run("s", "tpe", 1, True, trials)
    curve = maximizing.curve()
    assert [spent for spent, _ in curve] == [2.0, 5.0, 6.0, 8.0, 9.0]
    assert math.isnan(curve[0][1]) and [b for _, b in curve[1:]] == [0.3, 0.3, 0.5, 0.5]
    assert maximizing.best == 0.5
    assert maximizing.reach(0.4) == (4, 8.0) and maximizing.reach(0.6) is None
    minimizing = Run("s", "tpe", 1, False, trials)
    assert minimizing.best == 0.3 and minimizing.reach(0.35) == (2, 5.0)


def test_the_mean_best_so_far_gives_no_credit_before_the_first_complete_trial() -> None:
    trials = [trial(TrialState.FAIL, 1.0), *run("a", 1, [0.2, 0.8, 0.5]).trials]
    # Best so far: (worst complete 0.2), 0.2, 0.8, 0.8 → mean over the first 4 trials.
    assert _mean_best_so_far(Run("s", "a", 1, True, trials), 4) == pytest.approx(0.5)
    assert _mean_best_so_far(Run("s", "a", 1, True, trials), 2) == pytest.approx(0.2)


def test_tuners_are_summarised_over_their_repeats_and_ranked() -> None:
    bests = {"tpe": [0.9, 0.8, 0.95, 0.7], "random": [0.6, 0.85, 0.5, 0.65], "cmaes": [0.7] * 4}
    runs = [
        run(s, k + 1, [0.1, best]) for s, values in bests.items() for k, best in enumerate(values)
    ]
    result = compare(runs, target=0.75)
    rows = {r.sampler: r for r in result.rows}
    assert [r.sampler for r in result.rows] == ["tpe", "cmaes", "random"]  # by mean best
    assert rows["tpe"].best == bests["tpe"] and rows["tpe"].best_mean == pytest.approx(0.8375)
    assert rows["tpe"].reached == 3 and rows["tpe"].trials_to_target == 2
    assert rows["random"].reached == 1 and rows["cmaes"].reached == 0
    # Ranks per repeat (1 = best): tpe 1, 2, 1, 1.5; random 3, 1, 3, 3; cmaes 2, 3, 2, 1.5.
    assert rows["tpe"].mean_rank == pytest.approx(5.5 / 4)
    assert rows["random"].mean_rank == pytest.approx(10 / 4)
    assert rows["cmaes"].mean_rank == pytest.approx(8.5 / 4)
    expected = friedmanchisquare(bests["tpe"], bests["random"], bests["cmaes"])
    assert result.test is not None and result.test.method == "Friedman"
    assert result.test.p_value == pytest.approx(expected.pvalue)
    assert result.test.note == "few repeats: a large p-value says little"
    assert result.horizon == 2
    text = render_comparison(result)
    assert "Friedman" in text and "target 0.75" in text


def test_two_tuners_get_a_paired_wilcoxon_test_and_identical_ones_say_so() -> None:
    a, b = [0.9, 0.8, 0.7, 0.95, 0.85], [0.6, 0.81, 0.5, 0.9, 0.7]
    runs = [run("a", k + 1, [v]) for k, v in enumerate(a)]
    runs += [run("b", k + 1, [v]) for k, v in enumerate(b)]
    result = compare(runs)
    assert result.test is not None and result.test.method == "Wilcoxon signed-rank"
    assert result.test.p_value == pytest.approx(wilcoxon(a, b).pvalue)
    same = compare([run("a", 1, [0.5]), run("a", 2, [0.6]), run("b", 1, [0.5]), run("b", 2, [0.6])])
    assert same.test is not None and (same.test.p_value, same.test.note) == (
        1.0,
        "identical results",
    )


def test_one_run_per_tuner_has_no_rank_test_and_says_how_to_get_one() -> None:
    result = compare([run("a", 1, [0.5]), run("b", 1, [0.6])])
    assert result.test is None
    assert "--repeats" in render_comparison(result)
    with pytest.raises(InvalidInputError, match="nothing to compare"):
        compare([])
