"""The keys of an NNI experiment config (v1 and v2) that say what a trial runs and where.

Each key is honoured, refused with a one-line error that names it, or, when it changes
nothing that runs, ignored and listed (``hpo validate`` shows the list). Cluster settings of
NNI's other platforms (remote machines, Kubernetes, OpenPAI, AML, …) become a notice: with hpo,
those machines run ``hpo worker`` against the shared storage instead. The keys hpo shares with
Dr.Opt (``experimentName``, ``tuner``, ``assessor``, budgets) are in ``config_keys``; the
search space keys (``searchSpaceFile``, ``searchSpace``, ``searchSpacePath``) are read by
``config_file``, which knows the file's directory.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hpo.errors import SpaceError
from hpo.space import Notice
from hpo.study.bounds import MAX_GPUS_PER_TRIAL, MAX_LOCAL_WORKERS
from hpo.study.config_keys import parse_duration
from hpo.text import kind, show

Handler = Callable[[Any, str, dict[str, Any], list[Notice]], None]

#: Keys that change nothing about what runs or where (logging, NNI's own manager): read,
#: and listed by ``hpo validate`` as ignored.
NO_EFFECT_KEYS = frozenset(
    {
        "authorName",
        "description",
        "logLevel",
        "logDir",
        "logCollection",
        "debug",
        "versionCheck",
        "multiThread",
        "nniManagerIp",
        "experimentWorkingDirectory",
        "tunerGpuIndices",
        "assessorGpuIndices",
        "advisorGpuIndices",
        # Dr.Opt's own bookkeeping
        "parentProject",
        "updatePeriod",
    }
)

#: Settings of NNI's other training platforms: hpo runs trials where ``hpo worker`` runs.
CLUSTER_KEYS = frozenset(
    {
        "machineList",
        "remoteConfig",
        "paiConfig",
        "paiYarnConfig",
        "kubeflowConfig",
        "frameworkcontrollerConfig",
        "dlcConfig",
        "amlConfig",
        "adlConfig",
        "hybridConfig",
        "sharedStorage",
    }
)

_ELSEWHERE = (
    "hpo runs trials where `hpo worker` runs: start `hpo worker --study NAME` on those "
    "machines, with HPO_STORAGE naming the shared database"
)


def _ignored(at: str, fields: dict[str, Any]) -> None:
    fields.setdefault("ignored", []).append(at)


def _command(value: Any, at: str, fields: dict[str, Any], notices: list[Notice]) -> None:
    if not isinstance(value, str) or not value.strip():
        raise SpaceError(at, f"expected the command a trial runs, got {show(value)}")
    if "\0" in value:  # no process can be given one
        raise SpaceError(at, f"a command cannot hold a NUL character, got {show(value)}")
    fields["command"] = value.strip()


def _code_dir(value: Any, at: str, fields: dict[str, Any], notices: list[Notice]) -> None:
    if not isinstance(value, str) or not value.strip():
        raise SpaceError(at, f"expected a directory, got {show(value)}")
    fields["code_dir"] = (value.strip(), at)


def _count(key: str, minimum: int, maximum: int) -> Handler:
    def handler(value: Any, at: str, fields: dict[str, Any], notices: list[Notice]) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise SpaceError(at, f"expected an integer ≥ {minimum}, got {show(value)}")
        if value > maximum:  # each starts processes or pins GPUs on one machine: bounds.py
            raise SpaceError(at, f"expected at most {maximum} on one machine, got {show(value)}")
        fields[key] = value

    return handler


_trial_gpus = _count("trial_gpus", 0, MAX_GPUS_PER_TRIAL)
_concurrency = _count("concurrency", 1, MAX_LOCAL_WORKERS)


def _max_trial_duration(value: Any, at: str, fields: dict[str, Any], notices: list[Notice]) -> None:
    fields["max_trial_duration_s"] = parse_duration(value, at)


def _trial_v1(value: Any, at: str, fields: dict[str, Any], notices: list[Notice]) -> None:
    """NNI v1's ``trial: {command, codeDir, gpuNum, ...}``."""
    if not isinstance(value, dict):
        raise SpaceError(at, f"expected an object with command, got {kind(value)}")
    for key, item in value.items():
        where = f"{at}.{key}"
        if key == "command":
            _command(item, where, fields, notices)
        elif key == "codeDir":
            _code_dir(item, where, fields, notices)
        elif key == "gpuNum":
            _trial_gpus(item, where, fields, notices)
        elif key == "nasMode":
            raise SpaceError(where, "NNI's neural architecture search is not supported by hpo")
        else:
            notices.append(Notice(where, f"a setting of NNI's cluster platforms: {_ELSEWHERE}"))


def _platform(value: Any, at: str, fields: dict[str, Any], notices: list[Notice]) -> None:
    if not isinstance(value, str) or not value.strip():
        raise SpaceError(at, f"expected a platform name, got {show(value)}")
    if value.strip().lower() != "local":
        notices.append(Notice(at, f"platform {value!r}: {_ELSEWHERE}"))


def _local_settings(settings: Mapping[str, Any], at: str, fields: dict[str, Any]) -> list[Notice]:
    """``trainingService`` (platform local) or v1's ``localConfig``."""
    notices: list[Notice] = []
    for key, value in settings.items():
        where = f"{at}.{key}"
        if key == "platform":
            continue
        if key == "gpuIndices":
            fields["gpu_indices"] = _gpu_indices(value, where)
        elif key in ("maxTrialNumberPerGpu", "maxTrialNumPerGpu"):
            _count("trials_per_gpu", 1, MAX_LOCAL_WORKERS)(value, where, fields, notices)
        elif key in ("useActiveGpu", "reuseMode"):
            _ignored(where, fields)  # hpo neither checks nor reuses GPUs' other tenants
        else:
            notices.append(Notice(where, "unknown local training-service setting ignored"))
    return notices


def _gpu_indices(value: Any, at: str) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if isinstance(items, int) and not isinstance(items, bool):
        items = [items]
    if not isinstance(items, list) or not items:
        raise SpaceError(at, f"expected GPU indices like [0, 1] or '0,1', got {show(value)}")
    indices = [str(i).strip() for i in items]
    if not all(i.isdigit() for i in indices):
        raise SpaceError(at, f"expected GPU indices like [0, 1] or '0,1', got {show(value)}")
    return tuple(indices)


def _training_service(value: Any, at: str, fields: dict[str, Any], notices: list[Notice]) -> None:
    services = value if isinstance(value, list) else [value]
    for i, service in enumerate(services):
        where = f"{at}[{i}]" if isinstance(value, list) else at
        if not isinstance(service, dict) or not isinstance(service.get("platform"), str):
            raise SpaceError(where, 'expected an object with "platform" (e.g. "local")')
        if service["platform"].strip().lower() == "local":
            notices.extend(_local_settings(service, where, fields))
        else:
            _platform(service["platform"], f"{where}.platform", fields, notices)


def _local_config(value: Any, at: str, fields: dict[str, Any], notices: list[Notice]) -> None:
    if not isinstance(value, dict):
        raise SpaceError(at, f"expected an object, got {kind(value)}")
    notices.extend(_local_settings(value, at, fields))


def _cluster(value: Any, at: str, fields: dict[str, Any], notices: list[Notice]) -> None:
    notices.append(Notice(at, f"a setting of NNI's cluster platforms: {_ELSEWHERE}"))


def _refuse_when_true(what: str) -> Handler:
    def handler(value: Any, at: str, fields: dict[str, Any], notices: list[Notice]) -> None:
        if not isinstance(value, bool):
            raise SpaceError(at, f"expected true or false, got {show(value)}")
        if value:
            raise SpaceError(at, what)

    return handler


def _experiment_type(value: Any, at: str, fields: dict[str, Any], notices: list[Notice]) -> None:
    if value != "hpo":
        raise SpaceError(
            at, f"experiment type {show(value)} is not supported: hpo runs hyperparameter search"
        )


def _no_effect(value: Any, at: str, fields: dict[str, Any], notices: list[Notice]) -> None:
    _ignored(at, fields)


NNI_KEYS: dict[str, Handler] = {
    "trialCommand": _command,
    "trialCodeDirectory": _code_dir,
    "trialConcurrency": _concurrency,
    "trialGpuNumber": _trial_gpus,
    "maxTrialDuration": _max_trial_duration,
    "trial": _trial_v1,
    "trainingService": _training_service,
    "trainingServicePlatform": _platform,
    "localConfig": _local_config,
    "useAnnotation": _refuse_when_true(
        "NNI annotations are not supported: read the params with nni.get_next_parameter() "
        "and give the space in searchSpaceFile"
    ),
    "multiPhase": _refuse_when_true(
        "multi-phase trials (several param sets per trial) are not supported"
    ),
    "experimentType": _experiment_type,
    **dict.fromkeys(CLUSTER_KEYS, _cluster),
    **dict.fromkeys(NO_EFFECT_KEYS, _no_effect),
}
