"""``hpo delete-study``: a study and everything it owns.

Its trials (Optuna's tables), its blobs in the database (weights, trial logs), the weights it
kept in an artifact directory, and its folder of trial directories where this machine reaches
it (a shared ``checkpoint_dir``; else this machine's cache: other machines' caches keep
theirs until cleared by hand). The study goes first: a deletion cut short leaves files
nobody uses, never a study without its weights.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from optuna.artifacts import FileSystemArtifactStore
from optuna.artifacts.exceptions import ArtifactNotFound
from optuna.storages import BaseStorage

from hpo import attrs
from hpo.errors import HpoError
from hpo.storage import blob_store
from hpo.study.artifacts import legacy_artifact_dir
from hpo.study.directories import remove_study_directory
from hpo.study.spec import StudySpec
from hpo.study.store import load_study_id, read_spec

#: Optuna's prefix of the trial system attributes that describe an artifact.
ARTIFACT_ATTR = "artifacts:"


@dataclass(frozen=True)
class Deleted:
    chunks: int  # of weights and logs, in the database
    files: int  # weights in an artifact directory
    folder: Path | None  # the trial directories' folder, where this machine had one


def delete_study(storage: BaseStorage, name: str, storage_url: str) -> Deleted:
    study_id = load_study_id(storage, name)
    spec: StudySpec | None = None
    with contextlib.suppress(HpoError):  # a plain Optuna study, or a damaged one
        spec = read_spec(storage, study_id, name)
    artifact_ids: set[str] = set()
    for trial in storage.get_all_trials(study_id, deepcopy=False):
        keys = (
            k.removeprefix(ARTIFACT_ATTR) for k in trial.system_attrs if k.startswith(ARTIFACT_ATTR)
        )
        artifact_ids.update(keys)
        if trial.user_attrs.get(attrs.WEIGHTS):
            artifact_ids.add(str(trial.user_attrs[attrs.WEIGHTS]))
    storage.delete_study(study_id)
    blobs = blob_store(storage)
    chunks = blobs.delete_study(study_id) if blobs is not None else 0
    files = 0
    directory = _artifact_directory(spec, storage_url)
    if directory is not None and directory.is_dir():
        store = FileSystemArtifactStore(str(directory))
        for artifact_id in artifact_ids:
            with contextlib.suppress(ArtifactNotFound, FileNotFoundError):
                store.remove(artifact_id)
                files += 1
    folder = remove_study_directory(spec, study_id) if spec is not None else None
    return Deleted(chunks, files, folder)


def _artifact_directory(spec: StudySpec | None, storage_url: str) -> Path | None:
    if spec is None:
        return None
    if spec.artifact_dir:
        return Path(spec.artifact_dir)
    return None if spec.artifacts_in_database else legacy_artifact_dir(storage_url)
