"""NNI experiment configs (v1 and v2), key by key: honoured, refused in one line, or listed as
changing nothing. The keys are those of NNI's experiment-config reference."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hpo.errors import InvalidInputError
from hpo.study import Overrides, SearchConfig, StudySpec, parse_config
from hpo.study.describe import check_config
from tests.helpers import assert_one_line_error, hpo_cli, write_json

SPACE = {"lr": {"_type": "loguniform", "_value": [1e-4, 1e-1]}}
V2 = {"searchSpace": SPACE, "trialCommand": "python3 mnist.py", "trialCodeDirectory": "."}
V1 = {"searchSpacePath": "space.json", "trial": {"command": "python3 mnist.py", "codeDir": "."}}

Check = Callable[[SearchConfig, StudySpec], bool]


def honoured(check: Check) -> tuple[str, Check]:
    return ("honoured", check)


def refused(needle: str) -> tuple[str, str]:
    return ("refused", needle)


def noticed(needle: str) -> tuple[str, str]:
    return ("noticed", needle)


IGNORED = ("ignored", "")

#: (base, key, value, what becomes of it)
KEYS: list[tuple[dict[str, Any], str, Any, tuple[str, Any]]] = [
    # -- v2 -----------------------------------------------------------------------------------
    (V2, "experimentName", "mnist", honoured(lambda c, s: s.name == "mnist")),
    (
        V2,
        "trialCommand",
        "python3 x.py",
        honoured(lambda c, s: s.objective.command == "python3 x.py"),
    ),
    (
        V2,
        "trialCodeDirectory",
        "code",
        honoured(lambda c, s: s.objective.directory.endswith("/code")),
    ),
    (V2, "trialConcurrency", 4, honoured(lambda c, s: c.concurrency == 4)),
    (V2, "trialGpuNumber", 2, honoured(lambda c, s: s.objective.gpus == 2)),
    (V2, "maxExperimentDuration", "2h", honoured(lambda c, s: s.max_duration_s == 7200)),
    (V2, "maxTrialNumber", 7, honoured(lambda c, s: s.max_trials == 7)),
    (V2, "maxTrialDuration", "30m", honoured(lambda c, s: s.objective.max_seconds == 1800)),
    (V2, "tuner", {"name": "Anneal"}, honoured(lambda c, s: s.sampler.name == "tpe")),
    (
        V2,
        "tuner",
        {"name": "evolution", "classArgs": {"population_size": 8}},
        honoured(
            lambda c, s: s.sampler.name == "cmaes" and s.sampler.options["population_size"] == 8
        ),
    ),
    (
        V2,
        "tuner",
        {"name": "TPE", "classArgs": {"optimize_mode": "minimize"}},
        honoured(lambda c, s: s.metrics[0].direction == "minimize"),
    ),
    (V2, "tuner", {"className": "MyTuner", "codeDirectory": "."}, refused("className")),
    (V2, "tuner", {"name": "PBTTuner"}, refused("population-based training")),
    (V2, "tuner", {"name": "PPOTuner"}, refused("neural-architecture-search")),
    (V2, "tuner", {"name": "NoSuchTuner"}, refused("unknown sampler")),
    (
        V2,
        "advisor",
        {"name": "BOHB"},
        honoured(lambda c, s: s.sampler.name == "tpe" and s.pruner.name == "hyperband"),
    ),
    (
        V2,
        "assessor",
        {"name": "Medianstop", "classArgs": {"start_step": 3}},
        honoured(
            lambda c, s: s.pruner.name == "median" and s.pruner.options == {"n_warmup_steps": 3}
        ),
    ),
    (
        V2,
        "assessor",
        {"name": "Curvefitting", "classArgs": {"epoch_num": 20}},
        noticed("runs as the median pruner"),
    ),
    (
        V2,
        "trainingService",
        {"platform": "local", "gpuIndices": [0, 2]},
        honoured(lambda c, s: c.gpu_indices == ("0", "2")),
    ),
    (
        V2,
        "trainingService",
        {"platform": "local", "maxTrialNumberPerGpu": 2},
        honoured(lambda c, s: c.trials_per_gpu == 2),
    ),
    (V2, "trainingService", {"platform": "remote", "machineList": []}, noticed("hpo worker")),
    (
        V2,
        "trainingService",
        [{"platform": "local"}, {"platform": "kubeflow"}],
        noticed("hpo worker"),
    ),
    (V2, "useAnnotation", True, refused("annotations are not supported")),
    (V2, "useAnnotation", False, honoured(lambda c, s: True)),
    (V2, "sharedStorage", {"storageType": "NFS"}, noticed("hpo worker")),
    (V2, "experimentType", "nas", refused("not supported")),
    (V2, "nniManagerIp", "10.0.0.1", IGNORED),
    (V2, "debug", True, IGNORED),
    (V2, "logLevel", "info", IGNORED),
    (V2, "experimentWorkingDirectory", "~/nni-experiments", IGNORED),
    (V2, "tunerGpuIndices", [0], IGNORED),
    # -- v1 -----------------------------------------------------------------------------------
    (V1, "authorName", "me", IGNORED),
    (V1, "maxExecDuration", "1h", honoured(lambda c, s: s.max_duration_s == 3600)),
    (V1, "maxTrialNum", 5, honoured(lambda c, s: s.max_trials == 5)),
    (V1, "versionCheck", False, IGNORED),
    (V1, "multiThread", True, IGNORED),
    (V1, "logDir", "/tmp/nni", IGNORED),
    (V1, "logCollection", "none", IGNORED),
    (V1, "trainingServicePlatform", "local", honoured(lambda c, s: True)),
    (V1, "trainingServicePlatform", "pai", noticed("hpo worker")),
    (V1, "multiPhase", True, refused("multi-phase")),
    (
        V1,
        "tuner",
        {"builtinTunerName": "GridSearch"},  # the space is continuous: grid says so
        refused("finitely many values"),
    ),
    (V1, "tuner", {"builtinTunerName": "TPE", "gpuIndices": "0"}, IGNORED),
    (
        V1,
        "tuner",
        {"builtinTunerName": "TPE", "includeIntermediateResults": True},
        noticed("final values only"),
    ),
    (
        V1,
        "tuner",
        {"codeDir": ".", "classFileName": "t.py", "className": "T"},
        refused("className"),
    ),
    (
        V1,
        "assessor",
        {"builtinAssessorName": "Medianstop"},
        honoured(lambda c, s: s.pruner.name == "median"),
    ),
    (
        V1,
        "advisor",
        {"builtinAdvisorName": "Hyperband"},
        honoured(lambda c, s: s.sampler.name == "random" and s.pruner.name == "hyperband"),
    ),
    (
        V1,
        "trial",
        {"command": "python3 y.py", "codeDir": ".", "gpuNum": 1},
        honoured(lambda c, s: s.objective.command == "python3 y.py" and s.objective.gpus == 1),
    ),
    (V1, "trial", {"command": "python3 y.py", "memoryMB": 8192}, noticed("hpo worker")),
    (
        V1,
        "trial",
        {"command": "python3 y.py", "nasMode": "classic_mode"},
        refused("architecture search"),
    ),
    (
        V1,
        "localConfig",
        {"gpuIndices": "0,1", "useActiveGpu": True},
        honoured(
            lambda c, s: c.gpu_indices == ("0", "1") and any("useActiveGpu" in i for i in c.ignored)
        ),
    ),
    (V1, "machineList", [{"ip": "10.0.0.2"}], noticed("hpo worker")),
    (V1, "kubeflowConfig", {"operator": "tf-operator"}, noticed("hpo worker")),
]


@pytest.mark.parametrize(
    ("base", "key", "value", "outcome"),
    KEYS,
    ids=[f"{'v1' if b is V1 else 'v2'}-{k}-{i}" for i, (b, k, _, _) in enumerate(KEYS)],
)
def test_every_reference_key(
    tmp_path: Path, base: dict[str, Any], key: str, value: Any, outcome: tuple[str, Any]
) -> None:
    write_json(tmp_path / "space.json", SPACE)
    (tmp_path / "code").mkdir()
    data = {**base, key: value}
    kind, expected = outcome
    if kind == "refused":
        with pytest.raises(InvalidInputError) as refusal:
            check_config(parse_config(data, base_dir=str(tmp_path)), Overrides())
        assert expected in str(refusal.value)
        assert "\n" not in str(refusal.value)
        return
    config = parse_config(data, base_dir=str(tmp_path))
    plan = check_config(config, Overrides())
    notices = [str(n) for n in plan.notices]
    if kind == "honoured":
        assert expected(config, plan.specs[0]), (key, value)
    elif kind == "noticed":
        assert any(expected in n and key in n for n in notices), notices
    else:
        assert any(i.split(".")[0] == key for i in config.ignored), config.ignored
        assert not any(key in n for n in notices), notices  # listed, not warned about


def test_validate_lists_what_an_nni_config_will_run(tmp_path: Path) -> None:
    write_json(tmp_path / "space.json", SPACE)
    (tmp_path / "config.yml").write_text(
        "experimentName: m\n"
        "searchSpaceFile: space.json\n"
        "trialCommand: python3 mnist.py\n"
        "trialGpuNumber: 1\n"
        "trialConcurrency: 3\n"
        "maxTrialNumber: 10\n"
        "maxTrialDuration: 10m\n"
        "logLevel: debug\n"
        "tuner: {name: Evolution, classArgs: {optimize_mode: maximize, population_size: 6}}\n"
        "assessor: {name: Medianstop, classArgs: {start_step: 4}}\n"
        "trainingService: {platform: local, useActiveGpu: true}\n"
    )
    result = hpo_cli("validate", "config.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"command 'python3 mnist.py' in {tmp_path}" in out
    for line in (
        "GPUs per trial            1",
        "time limit per trial      10m",
        "Evolution → cmaes(population_size=6)",
        "Medianstop → median(n_warmup_steps=4)",
        "10 trials",
        "3 local workers with hpo run",
        "logLevel, trainingService.useActiveGpu",
        "config.yml: valid NNI experiment config, 1 parameters, sampler cmaes",
    ):
        assert line in out, (line, out)
    assert "runs as CMA-ES" in result.stderr  # what the tuner becomes, said once


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("searchSpaceFile: space.json\ntrialCommand: [unclosed\n", "not valid YAML"),
        ("searchSpaceFile: space.json\nsearchSpaceFile: other.json\n", "duplicate key"),
        ("trialCommand: python3 x.py\n", "no search space"),
        ("searchSpaceFile: missing.json\ntrialCommand: python3 x.py\n", "no such file"),
        ("searchSpace: {}\nsearchSpaceFile: space.json\ntrialCommand: x\n", "search space once"),
        (
            "searchSpaceFile: space.json\ntrialCommand: x\ntrialCodeDirectory: nowhere\n",
            "does not exist",
        ),
        ("searchSpaceFile: space.json\ntrialCommand: x\nmaxTrialDuration: soon\n", "duration"),
        ("searchSpaceFile: space.json\ntrialCommand: x\ntrialConcurrency: 0\n", "integer ≥ 1"),
        ("searchSpaceFile: space.json\ntrialCommand: x\nuseAnnotation: true\n", "annotations"),
    ],
)
def test_bad_nni_configs_are_one_line_errors(tmp_path: Path, text: str, needle: str) -> None:
    write_json(tmp_path / "space.json", SPACE)
    (tmp_path / "config.yml").write_text(text)
    result = hpo_cli("validate", "config.yml", cwd=tmp_path)
    assert_one_line_error(result, 2, needle)
    assert "config.yml" in result.stderr or "missing.json" in result.stderr


def test_a_yaml_config_under_another_name_is_read_as_yaml(tmp_path: Path) -> None:
    write_json(tmp_path / "space.json", SPACE)
    (tmp_path / "experiment.cfg").write_text("searchSpaceFile: space.json\ntrialCommand: x\n")
    result = hpo_cli("validate", "experiment.cfg", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "valid NNI experiment config" in result.stdout
