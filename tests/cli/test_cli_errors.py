"""Malformed spaces, configs and options: exit code 2, one line naming the JSON path, no
traceback, and the storage left exactly as it was. Run through the hpo app in this process
(the same error boundary a real process has; ``tests/cli/test_best.py`` and others run the
real process)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import assert_one_line_error, hpo_cli

SPACE = {"lr": {"_type": "uniform", "_value": [0.001, 0.1]}}


def dropt(config: Any = None, params: Any = None, search_space: Any = None) -> dict[str, Any]:
    return {
        "config": {"experimentName": "x", "maxTrialNum": 5} if config is None else config,
        "params": {} if params is None else params,
        "search_space": SPACE if search_space is None else search_space,
    }


def tuner(name: Any = "TPE", **class_args: Any) -> dict[str, Any]:
    return {"maxTrialNum": 5, "tuner": {"builtinTunerName": name, "classArgs": class_args}}


# (file text or JSON, what the one error line must contain)
MALFORMED: list[tuple[str, Any, list[str]]] = [
    ("not-json", '{"lr": {"_type": "uniform", "_value": [0.1, 1]}', ["not valid JSON", "line 1"]),
    ("empty-file", "", ["empty"]),
    ("top-level-list", [1, 2], ["expected a JSON object"]),
    (
        "duplicate-key",
        '{"lr": {"_type": "uniform", "_value": [0, 1]}, '
        '"lr": {"_type": "uniform", "_value": [0, 2]}}',
        ["duplicate key 'lr'"],
    ),
    ("nan", '{"lr": {"_type": "uniform", "_value": [NaN, 1]}}', ["NaN"]),
    ("missing-type", {"lr": {"_value": [0, 1]}}, ["lr: missing _type"]),
    ("missing-value", {"lr": {"_type": "uniform"}}, ["lr: missing _value"]),
    (
        "unknown-type",
        {"lr": {"_type": "unifrom", "_value": [0, 1]}},
        ["lr._type: unknown type 'unifrom'", "did you mean 'uniform'"],
    ),
    ("type-not-string", {"lr": {"_type": 3, "_value": [0, 1]}}, ["lr._type"]),
    (
        "value-not-list",
        {"lr": {"_type": "uniform", "_value": 0.1}},
        ["lr._value: uniform needs a list"],
    ),
    (
        "uniform-one-bound",
        {"lr": {"_type": "uniform", "_value": [0.1]}},
        ["lr._value: uniform needs [low, high]"],
    ),
    (
        "uniform-equal",
        {"lr": {"_type": "uniform", "_value": [0.1, 0.1]}},
        ["lr._value: uniform needs [low, high] with low < high, got [0.1, 0.1]"],
    ),
    (
        "loguniform-zero",
        {"lr": {"_type": "loguniform", "_value": [0, 0.1]}},
        ["lr._value: loguniform needs 0 < low"],
    ),
    ("loguniform-negative", {"lr": {"_type": "loguniform", "_value": [-1, 0.1]}}, ["lr._value"]),
    (
        "quniform-q-zero",
        {"n": {"_type": "quniform", "_value": [1, 10, 0]}},
        ["n._value[2]: quniform needs q > 0"],
    ),
    (
        "qloguniform-q-negative",
        {"n": {"_type": "qloguniform", "_value": [1, 10, -1]}},
        ["n._value[2]"],
    ),
    (
        "quniform-two-values",
        {"n": {"_type": "quniform", "_value": [1, 10]}},
        ["n._value: quniform needs [low, high, q]"],
    ),
    (
        "choice-empty",
        {"bs": {"_type": "choice", "_value": []}},
        ["bs._value: choice needs at least one option"],
    ),
    (
        "choice-duplicate",
        {"bs": {"_type": "choice", "_value": [32, 64, 32]}},
        ["bs._value", "duplicate"],
    ),
    (
        "randint-float",
        {"n": {"_type": "randint", "_value": [1.5, 4]}},
        ["n._value[0]: randint bounds must be integers"],
    ),
    (
        "randint-reversed",
        {"n": {"_type": "randint", "_value": [8, 2]}},
        ["n._value: randint needs [lower, upper] with lower < upper"],
    ),
    (
        "normal-sigma-zero",
        {"x": {"_type": "normal", "_value": [0, 0]}},
        ["x._value[1]: normal needs sigma > 0"],
    ),
    (
        "number-as-string",
        {"lr": {"_type": "uniform", "_value": ["0.001", 0.1]}},
        ["lr._value[0]: uniform needs numbers"],
    ),
    ("bool-as-number", {"lr": {"_type": "uniform", "_value": [True, 0.1]}}, ["lr._value[0]"]),
    (
        "nested-without-name",
        {"layer": {"_type": "choice", "_value": [{"k": {"_type": "randint", "_value": [1, 3]}}]}},
        ["layer._value[0]", "_name"],
    ),
    (
        "nested-bad-sub-param",
        {
            "layer": {
                "_type": "choice",
                "_value": [{"_name": "conv", "k": {"_type": "randint", "_value": [3, 3]}}],
            }
        },
        ["layer._value[0].k._value"],
    ),
    ("fixed-value-in-space", {"lr": 0.01}, ["lr: expected", "params"]),
    ("reserved-name", {"_lr": {"_type": "uniform", "_value": [0, 1]}}, ["_lr", "reserved"]),
    ("empty-space", {}, ["empty"]),
    (
        "unknown-tuner",
        dropt(tuner("Bayes")),
        ["config.tuner.builtinTunerName: unknown sampler 'Bayes'"],
    ),
    (
        "tuner-without-name",
        dropt({"tuner": {"classArgs": {}}}),
        ["config.tuner: missing the tuner name"],
    ),
    (
        "max-trials-string",
        dropt({"maxTrialNum": "15"}),
        ["config.maxTrialNum: expected a positive integer"],
    ),
    ("max-trials-zero", dropt({"maxTrialNum": 0}), ["config.maxTrialNum"]),
    (
        "bad-duration",
        dropt({"maxExecDuration": "12 hours"}),
        ["config.maxExecDuration: expected a duration"],
    ),
    (
        "bad-optimize-mode",
        dropt(tuner(optimize_mode="max")),
        ["config.tuner.classArgs.optimize_mode"],
    ),
    (
        "bad-population",
        dropt(tuner("Evolution", population_size=1)),
        ["config.tuner.classArgs.population_size"],
    ),
    (
        "search-space-not-object",
        dropt(search_space=[1]),
        ["search_space: a search space must be a JSON object"],
    ),
    ("search-space-empty", dropt(search_space={}), ["search_space: the search space is empty"]),
    ("params-not-object", dropt(params=[1]), ["params: expected an object"]),
    ("config-not-object", dropt(config="TPE"), ["config: expected an object"]),
    ("unknown-pruner", dropt({"pruner": "early"}), ["config.pruner: unknown pruner 'early'"]),
    ("bad-metric-direction", dropt({"metrics": {"val_acc": "up"}}), ["config.metrics.val_acc"]),
    ("bad-seed", dropt({"seed": -1}), ["config.seed"]),
    (
        "misspelled-top-level",
        {"config": {}, "search_space": SPACE, "param": {}},
        ["param: unknown top-level key"],
    ),
    # Numbers that floats, Optuna's storage or decimal cannot take (tracebacks, or trials that
    # all failed, before).
    (
        "int-5000-digits",
        '{"x": {"_type": "uniform", "_value": [0, 1' + "0" * 5000 + "]}}",
        ["too large"],
    ),
    (
        "int-beyond-a-float",
        '{"x": {"_type": "uniform", "_value": [0, 2' + "0" * 308 + "]}}",
        ["too large"],
    ),
    (
        "quniform-q-decimal-cannot-divide",
        {"n": {"_type": "quniform", "_value": [0, 1, 1e-300]}},
        ["n._value: quniform step q=1e-300 is too small for [0, 1]"],
    ),
    (
        "qnormal-q-decimal-cannot-divide",
        {"n": {"_type": "qnormal", "_value": [0, 1, 1e-300]}},
        ["n._value: qnormal step q=1e-300 is too small"],
    ),
    (
        "uniform-wider-than-a-float",
        {"x": {"_type": "uniform", "_value": [-1e308, 1e308]}},
        ["x._value: uniform spans [-1e+308, 1e+308], wider than the largest float"],
    ),
    (
        "normal-wider-than-a-float",
        {"x": {"_type": "normal", "_value": [0, 1e308]}},
        ["x._value: normal spans", "wider than the largest float"],
    ),
    (
        "randint-beyond-2^53",
        {"n": {"_type": "randint", "_value": [0, 2**60]}},
        ["n._value: randint has integer bound 1152921504606846976 beyond ±2^53"],
    ),
    # Names PostgreSQL cannot store (a NUL) or that break every line printing them.
    (
        "nul-in-param-name",
        {"a\u0000b": {"_type": "uniform", "_value": [0, 1]}},
        ["a\\u0000b: a parameter name must not hold control characters"],
    ),
    (
        "line-break-in-param-name",
        {"a\nb": {"_type": "uniform", "_value": [1, 1]}},
        ["a\\nb: a parameter name must not hold control characters"],
    ),
    (
        "nul-in-option-name",
        {"x": {"_type": "choice", "_value": [{"_name": "a\u0000"}]}},
        ["x._value[0]._name: an option's _name must not hold control characters"],
    ),
    (
        "param-name-beyond-optuna",
        {"x" * 600: {"_type": "uniform", "_value": [0, 1]}},
        ["is 600 characters long: Optuna stores at most 512"],
    ),
    ("nul-in-study-name", dropt({"experimentName": "a\u0000b"}), ["config.experimentName"]),
    ("nul-in-checkpoint-dir", dropt({"checkpoint_dir": "a\u0000b"}), ["config.checkpoint_dir"]),
    (
        "assessor-class-args-list",
        dropt({"assessor": {"builtinAssessorName": "Medianstop", "classArgs": [1]}}),
        ["config.assessor.classArgs: expected an object, got a list"],
    ),
    (
        "metric-named-twice",
        dropt({"metrics": [{"name": "acc"}, {"name": "acc"}]}),
        ["config.metrics[1]: metric 'acc' is named twice"],
    ),
    (
        "metric-without-name",
        dropt({"metrics": {"": "maximize"}}),
        ["config.metrics.: a metric name must not be empty"],
    ),
    (
        "heartbeat-beyond-a-week",
        dropt({"heartbeat_interval": 10**30, "grace_period": 10**31}),
        ["config.heartbeat_interval: expected at most 604800"],
    ),
    (
        "duration-beyond-100-years",
        dropt({"maxExecDuration": 1e300}),
        ["config.maxExecDuration: expected a duration of at most 100 years"],
    ),
    (
        "trial-concurrency-100000",
        {"searchSpace": SPACE, "trialCommand": "python3 trial.py", "trialConcurrency": 100000},
        ["trialConcurrency: expected at most 64 on one machine"],
    ),
    (
        "lone-surrogate-in-param-name",
        {"x\ud800": {"_type": "uniform", "_value": [0, 1]}},
        ["x\\ud800: a key holds a lone surrogate"],
    ),
    (
        "lone-surrogate-in-choice",
        {"x": {"_type": "choice", "_value": ["a\udfff", "b"]}},
        ["x._value[0]: a string holds a lone surrogate"],
    ),
    (
        "code-dir-nul",
        {"searchSpace": SPACE, "trialCommand": "python3 t.py", "trialCodeDirectory": "a\u0000"},
        ["trialCodeDirectory: the trials' code directory", "a path cannot hold a NUL character"],
    ),
    (
        "command-nul",
        {"searchSpace": SPACE, "trialCommand": "python3 t.py\u0000"},
        ["trialCommand: a command cannot hold a NUL character"],
    ),
    (
        "space-file-of-no-user",
        {"searchSpaceFile": "~hpo-no-such-user/space.json", "trialCommand": "python3 t.py"},
        ["searchSpaceFile", "~hpo-no-such-user is the home directory of no user"],
    ),
    (
        "evolution-population-10^12",
        dropt(tuner("Evolution", population_size=10**12)),
        ["config.tuner.classArgs.population_size: expected an integer from 2 to 10,000"],
    ),
    (
        "trial-gpus-beyond-a-machine",
        {"searchSpace": SPACE, "trialCommand": "python3 trial.py", "trialGpuNumber": 10**9},
        ["trialGpuNumber: expected at most 64 on one machine"],
    ),
]


def _write(tmp_path: Path, name: str, content: Any) -> Path:
    path = tmp_path / f"{name}.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_there_are_at_least_25_malformed_cases() -> None:
    assert len(MALFORMED) >= 25


@pytest.mark.parametrize(("name", "content", "needles"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_validate_refuses_malformed_file(
    tmp_path: Path, name: str, content: Any, needles: list[str]
) -> None:
    path = _write(tmp_path, name, content)
    result = hpo_cli("validate", str(path))
    assert_one_line_error(result, 2, str(path), *needles)


@pytest.mark.postgres
def test_create_study_refuses_every_malformed_file_and_leaves_the_storage_untouched(
    tmp_path: Path, pg_url: str
) -> None:
    import sqlalchemy

    # Files are validated before any storage is opened, whatever the backend: every case on
    # PostgreSQL (where "untouched" means no table at all), a sample on SQLite.
    sqlite = tmp_path / "untouched.db"
    runs = [
        (_write(tmp_path, name, content), pg_url, needles) for name, content, needles in MALFORMED
    ]
    runs += [(path, f"sqlite:///{sqlite}", needles) for path, _, needles in runs[::8]]
    results = [hpo_cli("create-study", "--space", str(path), storage=url) for path, url, _ in runs]
    for (_, _, needles), result in zip(runs, results, strict=True):
        assert_one_line_error(result, 2, *needles)
    assert not sqlite.exists()
    engine = sqlalchemy.create_engine(pg_url)
    with engine.connect() as conn:
        tables = conn.execute(
            sqlalchemy.text(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
            )
        ).scalar()
    engine.dispose()
    assert tables == 0


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--sampler", "bayesopt"], ["unknown sampler 'bayesopt'"]),
        (["--pruner", "medain"], ["unknown pruner 'medain'", "did you mean 'median'"]),
        (["--sampler", "grid"], ["continuous: lr"]),
        (["--max-duration", "soon"], ["--max-duration"]),
        (["--param", "no-equals"], ["--param expects KEY=VALUE"]),
        (["--seed", "-3"], ["--seed"]),
        (["--objective", "nocolon"], ["--objective"]),
        (["--direction", "up"], ["--direction"]),
        (["--param", "x=" + "1" * 5000], ["--param x: the integer of 5000 digits is too large"]),
        (["--param", "a\nb=1"], ["--param: a name must not hold control characters"]),
        (["--name", "a\nb"], ["study name must not hold control characters", "a\\nb"]),
        (["--max-duration", "99999999999d"], ["--max-duration", "at most 100 years"]),
        # Bytes of a command line that are not UTF-8 (Python keeps them as surrogates).
        (["--name", "n\udcff"], ["name: 'n\\udcff' is not UTF-8 text"]),
        (["-p", "k=\udcff"], ["param: 'k=\\udcff' is not UTF-8 text"]),
        (["-p", "k=" + "[" * 500 + "]" * 500], ["--param k: nested too deeply"]),
    ],
)
def test_create_study_refuses_bad_options(
    tmp_path: Path, args: list[str], needles: list[str]
) -> None:
    path = _write(tmp_path, "space", SPACE)
    db = tmp_path / "x.db"
    result = hpo_cli("create-study", "--space", str(path), *args, storage=f"sqlite:///{db}")
    assert_one_line_error(result, 2, *needles)
    assert not db.exists()


def test_several_objectives_refuse_single_objective_samplers_and_pruners(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "mo", dropt({"metrics": {"val_acc": "maximize", "num_params": "minimize"}})
    )
    db = f"sqlite:///{tmp_path / 'x.db'}"
    assert_one_line_error(
        hpo_cli("create-study", "--space", str(path), "--sampler", "cmaes", storage=db),
        2,
        "cmaes",
        "2",
    )
    assert_one_line_error(
        hpo_cli("create-study", "--space", str(path), "--pruner", "asha", storage=db),
        2,
        "single objective",
    )


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    result = hpo_cli("validate", str(tmp_path / "nope.json"))
    assert_one_line_error(result, 2, "nope.json", "no such file")


def test_plain_path_as_storage_gets_a_fix_it_message(tmp_path: Path) -> None:
    path = _write(tmp_path, "space", SPACE)
    result = hpo_cli("create-study", "--space", str(path), storage="runs.db")
    assert_one_line_error(result, 2, "did you mean sqlite:///runs.db?")


def test_unreachable_database_is_one_line_without_the_password(tmp_path: Path) -> None:
    path = _write(tmp_path, "space", SPACE)
    url = "postgresql+psycopg2://hpo:s3cret-pw@127.0.0.1:1/hpo"
    for args in (["status"], ["create-study", "--space", str(path)], ["worker", "--study", "x"]):
        result = hpo_cli(*args, storage=url)
        assert_one_line_error(result, 1, "cannot open storage", "127.0.0.1", "hpo:***@")
        assert "s3cret-pw" not in result.stderr + result.stdout


def test_unknown_study_is_one_line_with_a_suggestion(tmp_path: Path) -> None:
    path = _write(tmp_path, "space", SPACE)
    db = f"sqlite:///{tmp_path / 'x.db'}"
    assert (
        hpo_cli("create-study", "--space", str(path), "--name", "lr-search", storage=db).returncode
        == 0
    )
    result = hpo_cli("worker", "--study", "lr-serach", storage=db)
    assert_one_line_error(result, 1, "no study named 'lr-serach'", "did you mean 'lr-search'")


def test_the_storage_in_use_is_masked_whichever_way_it_was_given(tmp_path: Path) -> None:
    # The --storage option wins over HPO_STORAGE; neither password may show, the one in use
    # least of all.
    given = "postgresql+psycopg2://hpo:option-pw@127.0.0.1:1/hpo"
    result = hpo_cli(
        "status", "--storage", given, storage="postgresql+psycopg2://x:env-pw@127.0.0.1:1/x"
    )
    assert_one_line_error(result, 1, "cannot open storage", "hpo:***@127.0.0.1:1/hpo")
    assert "option-pw" not in result.stderr + result.stdout
    assert "env-pw" not in result.stderr + result.stdout
