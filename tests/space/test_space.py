"""The meaning of every NNI type, pinned by sampling many values and checking their support."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import optuna
import pytest
from optuna.distributions import FloatDistribution, IntDistribution

from hpo.errors import SpaceError
from hpo.space import ChoiceParam, NumericParam, describe_distribution, parse_space

optuna.logging.set_verbosity(optuna.logging.WARNING)

N = 1500


def sample(space_json: dict[str, Any], n: int = N, seed: int = 0) -> list[dict[str, Any]]:
    """n values of the space drawn by Optuna's random sampler through Space.suggest."""
    space = parse_space(space_json)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    out = []
    for _ in range(n):
        trial = study.ask()
        values = space.suggest(trial)
        # What a finished trial decodes to is what the objective received.
        assert space.decode(trial.params) == values
        study.tell(trial, 0.0)
        out.append(values)
    return out


def ints(lo: int, hi: int, step: int = 1) -> Callable[[list[Any]], None]:
    def check(values: list[Any]) -> None:
        assert all(type(v) is int for v in values)
        assert set(values) == set(range(lo, hi + 1, step))

    return check


def floats_in(lo: float, hi: float, *, log: bool = False) -> Callable[[list[Any]], None]:
    def check(values: list[Any]) -> None:
        assert all(type(v) is float for v in values)
        assert all(lo <= v <= hi for v in values)
        # Spread over the whole range, on the right scale.
        scale = math.log if log else (lambda x: x)
        width = scale(hi) - scale(lo)
        assert min(scale(v) for v in values) < scale(lo) + 0.02 * width
        assert max(scale(v) for v in values) > scale(hi) - 0.02 * width
        lower_third = sum(scale(v) < scale(lo) + width / 3 for v in values) / len(values)
        assert 0.28 < lower_third < 0.39, lower_third

    return check


def exactly(*expected: Any) -> Callable[[list[Any]], None]:
    def check(values: list[Any]) -> None:
        seen = []
        for v in values:
            if v not in seen:
                seen.append(v)
        assert sorted(map(repr, seen)) == sorted(map(repr, expected))
        for v in values:  # no 32.0 where 32 is meant, no 0.30000000000000004
            match = next(e for e in expected if e == v)
            assert type(v) is type(match) and repr(v) == repr(match)

    return check


def multiples_log(q: int, lo: int, hi: int) -> Callable[[list[Any]], None]:
    def check(values: list[Any]) -> None:
        assert all(type(v) is int and v % q == 0 and lo <= v <= hi for v in values)
        # Log-distributed: as many values below the geometric middle as above it.
        middle = math.sqrt(lo * hi)
        below = sum(v < middle for v in values) / len(values)
        assert 0.4 < below < 0.6, below
        assert min(values) < lo * 1.1 and max(values) > hi / 1.1
        # The bounds themselves are values of the space.
        param = parse_space({"x": {"_type": "qloguniform", "_value": [lo, hi, q]}}).params[0]
        bounds = param.distribution()
        assert isinstance(param, NumericParam)
        assert isinstance(bounds, IntDistribution | FloatDistribution)
        assert param.decode(bounds.low) == lo
        assert param.decode(bounds.high) == hi

    return check


CASES: list[tuple[str, list[Any], str, Callable[[list[Any]], None]]] = [
    ("choice", [8, 16, 32], "CategoricalDistribution([8, 16, 32])", exactly(8, 16, 32)),
    ("choice", ["sgd", "adam"], 'CategoricalDistribution(["sgd", "adam"])', exactly("sgd", "adam")),
    (
        "choice",
        [True, None, 0.5],
        "CategoricalDistribution([true, null, 0.5])",
        exactly(True, None, 0.5),
    ),
    # Lists are options too (multistep milestones); Optuna stores their JSON text.
    (
        "choice",
        [[50, 100], [30, 60, 90]],
        'CategoricalDistribution(["[50, 100]", "[30, 60, 90]"])',
        exactly([50, 100], [30, 60, 90]),
    ),
    # randint: NNI's upper bound is excluded.
    ("randint", [2, 5], "IntDistribution(2, 4)", ints(2, 4)),
    ("randint", [-3, 0], "IntDistribution(-3, -1)", ints(-3, -1)),
    # The legacy one-element form means [0, upper).
    ("randint", [4], "IntDistribution(0, 3)", ints(0, 3)),
    ("uniform", [0.1, 0.5], "FloatDistribution(0.1, 0.5)", floats_in(0.1, 0.5)),
    # quniform: NNI's clip(round(x / q) * q, low, high): the multiples of q in [low, high];
    # integers when low, high and q are.
    ("quniform", [5, 35, 1], "IntDistribution(5, 35)", ints(5, 35)),
    ("quniform", [32, 256, 32], "IntDistribution(32, 256, step=32)", ints(32, 256, 32)),
    # A bound that is not a multiple of q is a value too (clipped to): 1 and 3, 6, 9 (10/3
    # rounds to 3); not evenly spaced, so a choice.
    ("quniform", [1, 10, 3], "CategoricalDistribution([1, 3, 6, 9])", exactly(1, 3, 6, 9)),
    # In NNI's tuner test space: round(x / 2) is 0 for every x in [0.5, 0.9], clipped to 0.5.
    ("quniform", [0.5, 0.9, 2], "CategoricalDistribution([0.5])", exactly(0.5)),
    ("quniform", [1, 2, 5], "CategoricalDistribution([1])", exactly(1)),
    (
        "quniform",
        [0, 1, 0.25],
        "FloatDistribution(0, 1, step=0.25)",
        exactly(0.0, 0.25, 0.5, 0.75, 1.0),
    ),
    (
        "quniform",
        [0.1, 0.5, 0.1],
        "FloatDistribution(0.1, 0.5, step=0.1)",
        exactly(0.1, 0.2, 0.3, 0.4, 0.5),
    ),
    (
        "loguniform",
        [1e-4, 1e-1],
        "FloatDistribution(0.0001, 0.1, log=True)",
        floats_in(1e-4, 1e-1, log=True),
    ),
    # qloguniform: log-distributed multiples of q; step 1 stays an Optuna integer with log.
    ("qloguniform", [1, 1024, 1], "IntDistribution(1, 1024, log=True)", multiples_log(1, 1, 1024)),
    (
        "qloguniform",
        [8, 512, 8],
        "FloatDistribution(8, 512, log=True)",
        multiples_log(8, 8, 512),
    ),
    # The normal family keeps ±3σ: Optuna has no unbounded distribution.
    ("normal", [0, 1], "FloatDistribution(-3, 3)", floats_in(-3.0, 3.0)),
    ("qnormal", [10, 2, 1], "IntDistribution(4, 16)", ints(4, 16)),
    (
        "qnormal",
        [0, 1, 0.5],
        "FloatDistribution(-3, 3, step=0.5)",
        exactly(*[k / 2 for k in range(-6, 7)]),
    ),
    (
        "lognormal",
        [0, 1],
        f"FloatDistribution({math.exp(-3)!r}, {math.exp(3)!r}, log=True)",
        floats_in(math.exp(-3), math.exp(3), log=True),
    ),
    (
        "qlognormal",
        [3, 0.5, 1],
        "IntDistribution(5, 90, log=True)",  # ceil(e^1.5) = 5, floor(e^4.5) = 90
        multiples_log(1, 5, 90),
    ),
]


@pytest.mark.parametrize(
    ("nni_type", "value", "distribution", "check"),
    CASES,
    # The check functions' reprs hold addresses: ids of the other three, the same in every
    # process (pytest-xdist compares the test lists of its workers).
    ids=[f"{t}-{v}-{d}" for t, v, d, _ in CASES],
)
def test_nni_type_meaning(
    nni_type: str, value: list[Any], distribution: str, check: Callable[[list[Any]], None]
) -> None:
    space = parse_space({"x": {"_type": nni_type, "_value": value}})
    assert describe_distribution(space.distributions()["x"]) == distribution
    check([v["x"] for v in sample({"x": {"_type": nni_type, "_value": value}})])


def test_every_nni_type_is_pinned() -> None:
    from hpo.space import NNI_TYPES

    assert {c[0] for c in CASES} == set(NNI_TYPES)


def test_randint_never_gives_its_upper_bound_even_over_many_draws() -> None:
    values = [v["n"] for v in sample({"n": {"_type": "randint", "_value": [0, 2]}}, n=3000)]
    assert set(values) == {0, 1}


@pytest.mark.parametrize(
    ("nni_type", "value", "fixed"),
    [
        ("uniform", [0.1, 0.0001], [0.0001, 0.1]),  # the Food-11 early-stopping report's file
        ("loguniform", [1e-1, 1e-5], [1e-5, 1e-1]),
        ("quniform", [35, 5, 1], [5, 35, 1]),
        ("qloguniform", [512, 8, 8], [8, 512, 8]),
    ],
)
def test_reversed_bounds_are_fixed_with_a_notice(
    nni_type: str, value: list[float], fixed: list[float]
) -> None:
    space = parse_space({"lr": {"_type": nni_type, "_value": value}}, "search_space")
    assert space.to_json()["lr"]["_value"] == fixed
    assert [str(n) for n in space.notices] == [
        f"search_space.lr._value: bounds reversed [{_s(value[0])}, {_s(value[1])}]; "
        f"using [{_s(fixed[0])}, {_s(fixed[1])}]"
    ]


def _s(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


def test_randint_with_reversed_bounds_is_refused_since_the_excluded_end_is_ambiguous() -> None:
    with pytest.raises(SpaceError) as info:
        parse_space({"n": {"_type": "randint", "_value": [10, 2]}}, "search_space")
    assert info.value.path == "search_space.n._value"


NESTED = {
    "layer": {
        "_type": "choice",
        "_value": [
            {
                "_name": "conv",
                "kernel": {"_type": "choice", "_value": [3, 5]},
                "width": {"_type": "randint", "_value": [1, 4]},
            },
            {"_name": "pool"},
            "none",
        ],
    },
    "lr": {"_type": "loguniform", "_value": [1e-4, 1e-1]},
}


def test_nested_choice_is_sampled_define_by_run_in_nni_shape() -> None:
    values = sample(NESTED, n=600)
    layers = [v["layer"] for v in values]
    conv = [layer for layer in layers if isinstance(layer, dict) and layer["_name"] == "conv"]
    assert {layer["kernel"] for layer in conv} == {3, 5}
    assert {layer["width"] for layer in conv} == {1, 2, 3}
    assert {"_name": "pool"} in layers and "none" in layers
    assert all(set(layer) == {"_name", "kernel", "width"} for layer in conv)


def test_nested_sub_parameters_exist_only_when_their_option_is_chosen() -> None:
    space = parse_space(NESTED)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    for _ in range(200):
        trial = study.ask()
        values = space.suggest(trial)
        chose_conv = isinstance(values["layer"], dict) and values["layer"]["_name"] == "conv"
        assert ("layer/conv/kernel" in trial.params) == chose_conv
        study.tell(trial, 0.0)
    assert set(space.distributions()) == {"layer", "layer/conv/kernel", "layer/conv/width", "lr"}
    conditions = {p.key: c for p, c in space.walk()}
    assert conditions["layer/conv/kernel"] == ("layer = conv",)


def test_baseline_values_encode_to_optuna_params_and_come_back_unchanged() -> None:
    space = parse_space(NESTED)
    baseline = {"layer": {"_name": "conv", "kernel": 5, "width": 2}, "lr": 0.001}
    encoded, notices = space.encode(baseline)
    assert notices == []
    study = optuna.create_study()
    study.enqueue_trial(encoded)
    trial = study.ask()
    assert space.suggest(trial) == baseline


def test_baseline_values_outside_the_space_are_left_to_the_sampler_with_a_notice() -> None:
    space = parse_space(
        {
            "bs": {"_type": "choice", "_value": [32, 64]},
            "lr": {"_type": "uniform", "_value": [0.01, 0.1]},
        }
    )
    encoded, notices = space.encode({"bs": 48, "lr": 0.05, "epochs": 3})
    assert encoded == {"lr": 0.05}
    assert [n.path for n in notices] == ["params.bs"]


def test_the_index_encoding_of_hpo_0_1_studies_keeps_the_order_of_numeric_choices() -> None:
    """How the CMA-ES and QMC studies of hpo 0.1 stored numeric choices, still read."""
    space = parse_space(
        {
            "bs": {"_type": "choice", "_value": [64, 8, 32]},
            "opt": {"_type": "choice", "_value": ["sgd", "adam"]},
        }
    )
    ordinal = space.with_ordinal_choices()
    bs, opt = ordinal.params
    assert isinstance(bs, ChoiceParam) and bs.ordinal and bs.optuna_key == "bs[index]"
    assert isinstance(opt, ChoiceParam) and not opt.ordinal
    assert [bs.chosen_option(i).value for i in range(3)] == [8, 32, 64]
    assert ordinal.decode({"bs[index]": 2, "opt": "adam"}) == {"bs": 64, "opt": "adam"}
    encoded, _ = ordinal.encode({"bs": 32})
    assert encoded == {"bs[index]": 1}


def test_to_json_round_trips_every_type() -> None:
    data = {f"p{i}": {"_type": t, "_value": v} for i, (t, v, _, _) in enumerate(CASES)} | NESTED
    space = parse_space(data)
    again = parse_space(space.to_json())
    assert again.to_json() == space.to_json()
    assert again.distributions() == space.distributions()


@pytest.mark.parametrize(
    ("space", "path", "reason"),
    [
        ({"lr": {"_type": "uniform", "_value": [0.1, 0.1]}}, "lr._value", "low < high"),
        ({"lr": {"_type": "loguniform", "_value": [0, 0.1]}}, "lr._value", "0 < low"),
        ({"x": {"_type": "quniform", "_value": [0, 1, 0]}}, "x._value[2]", "q > 0"),
        ({"x": {"_type": "normal", "_value": [0, -1]}}, "x._value[1]", "sigma > 0"),
        ({"x": {"_type": "lognormal", "_value": [690, 10]}}, "x._value", "beyond floating point"),
        ({"x": {"_type": "choice", "_value": []}}, "x._value", "at least one option"),
        ({"x": {"_type": "choice", "_value": [1, 1]}}, "x._value", "duplicate"),
        ({"x": {"_type": "choice", "_value": [{"k": 1}]}}, "x._value[0]", "_name"),
        (
            {
                "x": {
                    "_type": "choice",
                    "_value": [{"_name": "a", "k": {"_type": "uniform", "_value": [1]}}],
                }
            },
            "x._value[0].k._value",
            "[low, high]",
        ),
        ({"x": {"_type": "gaussian", "_value": [0, 1]}}, "x._type", "unknown type"),
        ({"x": {"_type": "uniform", "_value": ["0.1", 1]}}, "x._value[0]", "numbers"),
        ({"x": {"_type": "randint", "_value": [0.5, 3]}}, "x._value[0]", "integers"),
        ({"x": 0.1}, "x", "_type"),
        ({"_x": {"_type": "uniform", "_value": [0, 1]}}, "_x", "reserved"),
        ({}, "$", "empty"),
    ],
)
def test_errors_name_the_json_path(space: Any, path: str, reason: str) -> None:
    with pytest.raises(SpaceError) as info:
        parse_space(space)
    assert info.value.path == path
    assert reason in info.value.reason


def test_uniform_error_reads_like_the_issue_example() -> None:
    with pytest.raises(SpaceError) as info:
        parse_space({"lr": {"_type": "uniform", "_value": [0.1, 0.1]}}, "search_space")
    assert str(info.value).startswith(
        "search_space.lr._value: uniform needs [low, high] with low < high, got [0.1, 0.1]"
    )
