"""The ``nni`` shim that command trials import: NNI's trial API on NNI's local protocol."""

from __future__ import annotations

import argparse
import importlib
import json
import types
from pathlib import Path

import numpy as np
import pytest
from optuna.trial import TrialState

from hpo import attrs
from hpo.objectives.channel import MetricsFile, parse_stdout_line, split_metric
from hpo.objectives.outcome import TrialFailedError
from tests.helpers import hpo_create_study, hpo_env, run_hpo, trials


@pytest.fixture
def nni(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """The shim as a trial imports it, with the environment the worker gives a trial."""
    params = {"lr": 0.01, "batch_size": 32, "model": {"_name": "cnn", "width": 2}}
    (tmp_path / "parameter.cfg").write_text(json.dumps({"parameter_id": 4, "parameters": params}))
    monkeypatch.setenv("NNI_SYS_DIR", str(tmp_path))
    monkeypatch.setenv("NNI_TRIAL_JOB_ID", "4")
    monkeypatch.setenv("NNI_EXP_ID", "exp-1")
    monkeypatch.setenv("NNI_TRIAL_SEQ_ID", "7")
    module = importlib.import_module("hpo.objectives.shim.nni")
    return importlib.reload(module)  # each test a fresh trial process


def test_params_keep_their_types_and_come_once(nni: types.ModuleType) -> None:
    params = nni.get_next_parameter()
    assert params == {"lr": 0.01, "batch_size": 32, "model": {"_name": "cnn", "width": 2}}
    assert type(params["batch_size"]) is int
    assert nni.get_next_parameter() is None  # NNI: one param set per (single-phase) trial
    assert nni.get_current_parameter("lr") == 0.01
    assert (nni.get_trial_id(), nni.get_experiment_id(), nni.get_sequence_id()) == ("4", "exp-1", 7)


def test_results_are_written_in_nnis_local_protocol(nni: types.ModuleType, tmp_path: Path) -> None:
    nni.get_next_parameter()
    nni.report_intermediate_result(np.float32(0.5))  # NumPy scalars, as scripts report them
    nni.report_intermediate_result({"default": np.float64(0.75), "loss": 0.3})
    nni.report_intermediate_result(0.8, step=5)
    nni.report_final_result(np.float64(0.9))
    raw = (tmp_path / ".nni" / "metrics").read_bytes()
    assert raw.startswith(b"ME") and raw[2:8].isdigit()  # "ME" + a 6-digit length + JSON
    first = json.loads(raw[8 : 8 + int(raw[2:8])])
    assert first["type"] == "PERIODICAL" and first["sequence"] == 0
    assert json.loads(first["value"]) == 0.5
    results = MetricsFile(tmp_path / ".nni" / "metrics").read()
    assert [(r.final, r.value, r.step) for r in results] == [
        (False, 0.5, None),
        (False, {"default": 0.75, "loss": 0.3}, None),
        (False, 0.8, 5),
        (True, 0.9, None),
    ]


def test_anything_else_fails_in_one_line(nni: types.ModuleType) -> None:
    with pytest.raises(AttributeError, match=r"^nni\.trace is not supported by hpo") as missing:
        nni.trace  # noqa: B018
    assert "\n" not in str(missing.value)


def test_merge_parameter_as_nni_does(nni: types.ModuleType) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--data", default=None)
    args = nni.utils.merge_parameter(parser.parse_args([]), {"lr": 0.01, "batch_size": 32})
    assert (args.lr, args.batch_size) == (0.01, 32)
    with pytest.raises(TypeError, match=r"'batch_size'.*'int'.*'float'"):
        nni.utils.merge_parameter(parser.parse_args([]), {"batch_size": 32.0})
    with pytest.raises(ValueError, match="'epochs' not found"):
        nni.utils.merge_parameter(parser.parse_args([]), {"epochs": 3})
    assert nni.utils.merge_parameter({"data": None}, {"data": "/x"}) == {"data": "/x"}


def test_a_partly_written_record_waits_for_its_end(tmp_path: Path) -> None:
    path = tmp_path / "metrics"
    data = json.dumps({"type": "FINAL", "value": "0.5"}).encode() + b"\n"
    path.write_bytes(b"ME%06d" % len(data) + data[:5])
    reader = MetricsFile(path)
    assert reader.read() == []
    with path.open("ab") as f:
        f.write(data[5:])
    assert [r.value for r in reader.read()] == [0.5]


@pytest.mark.parametrize(
    ("line", "final", "value", "step"),
    [
        ("@hpo intermediate 0.8\n", False, 0.8, None),
        (
            '@hpo intermediate {"default": 0.8, "loss": 1}\n',
            False,
            {"default": 0.8, "loss": 1},
            None,
        ),
        ("@hpo intermediate 0.8 step=12\n", False, 0.8, 12),
        ("@hpo final 0.93\n", True, 0.93, None),
    ],
)
def test_the_stdout_protocol(line: str, final: bool, value: object, step: int | None) -> None:
    reported = parse_stdout_line(line)
    assert reported is not None
    assert (reported.final, reported.value, reported.step) == (final, value, step)


def test_other_lines_are_output_and_bad_metric_lines_fail() -> None:
    assert parse_stdout_line("epoch 3: @hpo is great\n") is None
    with pytest.raises(TrialFailedError, match="not a number or a JSON object"):
        parse_stdout_line("@hpo final high\n")
    with pytest.raises(TrialFailedError, match="expected '@hpo intermediate"):
        parse_stdout_line("@hpo result 0.5\n")
    assert split_metric({"val_acc": 0.7, "loss": 2}, "val_acc") == (0.7, {"loss": 2.0})
    with pytest.raises(TrialFailedError, match="no 'default' or 'val_acc' key"):
        split_metric({"acc": 0.7}, "val_acc")


def test_the_shim_wins_over_an_nni_on_the_path(tmp_path: Path, sqlite_url: str) -> None:
    impostor = tmp_path / "site" / "nni"
    impostor.mkdir(parents=True)
    (impostor / "__init__.py").write_text("raise ImportError('the real nni was imported')\n")
    (tmp_path / "trial.py").write_text(
        "import nni\nparams = nni.get_next_parameter()\nnni.report_final_result(params['x'])\n"
    )
    hpo_create_study(
        tmp_path,
        {
            "searchSpace": {"x": {"_type": "uniform", "_value": [0, 1]}},
            "trialCommand": "python3 trial.py",
            "maxTrialNumber": 1,
        },
        sqlite_url,
    )
    env = hpo_env(sqlite_url, PYTHONPATH=str(tmp_path / "site"))
    worker = run_hpo("worker", "--study", "space-tpe", cwd=tmp_path, env=env)
    assert worker.returncode == 0, worker.stderr
    (trial,) = trials(sqlite_url, "space-tpe")
    assert trial.state == TrialState.COMPLETE, trial.user_attrs.get(attrs.ERROR)
    assert trial.value == trial.params["x"]
