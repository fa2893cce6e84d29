"""Where a study keeps its best trials' weights: Optuna artifacts in the study's database.

Nothing a trial produced may depend on the machine that ran it: the weights a worker keeps go
into the study's own database (``hpo.storage.blobs``), so ``hpo best --weights`` and
optuna-dashboard fetch them from any machine that reaches the study, after the workers'
machines are gone. A study may instead name a directory (``artifact_dir``,
``--artifact-dir``: an Optuna file-system artifact store every worker can write, such as a
shared file system). Studies made before hpo kept weights in the database (spec version < 3)
keep theirs where they did: beside a SQLite database file (``hpo.db`` → ``hpo-artifacts/``),
or in each worker machine's cache (``$HPO_CACHE_DIR/artifacts``).
"""

from __future__ import annotations

import io
import itertools
import re
from pathlib import Path
from typing import BinaryIO

import optuna
from optuna.artifacts import FileSystemArtifactStore
from optuna.artifacts.exceptions import ArtifactNotFound
from optuna.storages import BaseStorage

from hpo import attrs, env
from hpo.errors import HpoError, InvalidInputError, StorageError
from hpo.storage import BlobReader, BlobStore, blob_store, mask_url
from hpo.study.spec import StudySpec
from hpo.study.store import load_spec

_SQLITE_FILE = re.compile(r"^sqlite:///(?P<path>.+)$")
ARTIFACT = "artifact"  # the blob kind of an artifact
#: Directories that are each machine's own: weights kept there are lost to the others.
_LOCAL_ROOTS = ("/tmp", "/var/tmp", "/dev/shm", "/run")


class DatabaseArtifactStore:
    """Optuna's artifact-store protocol on the study's database (optuna-dashboard lists,
    downloads and uploads through it)."""

    def __init__(self, blobs: BlobStore, study_id: int | None = None) -> None:
        self._blobs = blobs
        self._study_id = study_id  # what the artifacts written here belong to

    def open_reader(self, artifact_id: str) -> BinaryIO:
        chunks = self._blobs.chunks(ARTIFACT, artifact_id)
        first = next(chunks, None)
        if first is None:
            raise ArtifactNotFound(f"artifact {artifact_id} is not in the study's database")
        raw = BlobReader(itertools.chain([first], chunks))
        return io.BufferedReader(raw)

    def write(self, artifact_id: str, content_body: BinaryIO) -> None:
        self._blobs.write(ARTIFACT, artifact_id, content_body, self._study_id)

    def remove(self, artifact_id: str) -> None:
        if not self._blobs.delete(ARTIFACT, artifact_id):
            raise ArtifactNotFound(f"artifact {artifact_id} is not in the study's database")


class FallbackArtifactStore:
    """The database first, then a directory: what ``hpo dashboard`` serves, for studies of
    every hpo version in one storage."""

    def __init__(self, database: DatabaseArtifactStore, directory: FileSystemArtifactStore) -> None:
        self._database = database
        self._directory = directory

    def open_reader(self, artifact_id: str) -> BinaryIO:
        try:
            return self._database.open_reader(artifact_id)
        except ArtifactNotFound:
            return self._directory.open_reader(artifact_id)

    def write(self, artifact_id: str, content_body: BinaryIO) -> None:
        self._database.write(artifact_id, content_body)

    def remove(self, artifact_id: str) -> None:
        try:
            self._database.remove(artifact_id)
        except ArtifactNotFound:
            self._directory.remove(artifact_id)


def legacy_artifact_dir(storage_url: str) -> Path:
    """Where studies made before spec version 3 kept weights without an artifact_dir."""
    match = _SQLITE_FILE.match(storage_url.split("?")[0])
    if match and match.group("path") != ":memory:":
        database = Path(match.group("path"))
        return database.with_name(f"{database.stem}-artifacts")
    return env.cache_root() / "artifacts"


def artifact_store(
    spec: StudySpec, study_id: int, storage: BaseStorage, storage_url: str
) -> optuna.artifacts.FileSystemArtifactStore | DatabaseArtifactStore:
    """The artifact store of a study."""
    if spec.artifact_dir:
        return _directory_store(Path(spec.artifact_dir))
    if spec.artifacts_in_database:
        blobs = blob_store(storage)
        if blobs is None:
            raise StorageError(
                f"storage {mask_url(storage_url)} cannot hold study {spec.name!r}'s weights "
                "(an in-memory storage); give the study an --artifact-dir"
            )
        return DatabaseArtifactStore(blobs, study_id)
    return _directory_store(legacy_artifact_dir(storage_url))


def dashboard_artifact_store(
    storage: BaseStorage, storage_url: str
) -> FallbackArtifactStore | FileSystemArtifactStore:
    """What ``hpo dashboard`` serves: the storage's database, then the older default
    directory."""
    directory = FileSystemArtifactStore(str(legacy_artifact_dir(storage_url)))
    blobs = blob_store(storage)
    if blobs is None:
        return directory
    return FallbackArtifactStore(DatabaseArtifactStore(blobs), directory)


def _directory_store(directory: Path) -> FileSystemArtifactStore:
    directory.mkdir(parents=True, exist_ok=True)
    return FileSystemArtifactStore(str(directory))


def check_shared(spec: StudySpec, storage_url: str) -> list[str]:
    """For a database server (workers on many machines): refuse an artifact directory that is
    each machine's own (the weights would stay where each trial ran); warn, in the sentences
    returned, when a retry on another machine cannot resume (no shared checkpoint_dir)."""
    if storage_url.startswith("sqlite"):
        return []
    if spec.artifact_dir and _machine_local(Path(spec.artifact_dir)):
        raise InvalidInputError(
            f"--artifact-dir {spec.artifact_dir}: a directory of each machine's own, so the "
            "weights would stay on the machine that ran each trial; name a directory every "
            "worker shares, or leave it unset to keep them in the study's database"
        )
    checkpoints = spec.liveness.checkpoint_dir
    if not spec.objective.is_builtin and not spec.objective.is_command:
        return []  # a function keeps no training state for a retry to resume from
    if checkpoints is None or _machine_local(Path(checkpoints)):
        where = "no --checkpoint-dir" if checkpoints is None else f"--checkpoint-dir {checkpoints}"
        return [
            f"{where}: a trial retried on another machine (its worker lost) starts again from "
            "its first epoch; give a directory every worker shares to resume it instead"
        ]
    return []


def _machine_local(directory: Path) -> bool:
    local = [Path(root) for root in _LOCAL_ROOTS] + [env.cache_root(), Path.home() / ".cache"]
    return any(directory == root or root in directory.parents for root in local)


def download_best_weights(
    storage: BaseStorage, name: str, storage_url: str, file: Path, trial: int | None
) -> int:
    """Save the weights the best trial (or trial number ``trial``) kept to ``file``; the
    trial's number."""
    study_id, spec = load_spec(storage, name)
    study = optuna.load_study(study_name=name, storage=storage)
    chosen = study.best_trial if trial is None else study.trials[trial]
    artifact = chosen.user_attrs.get(attrs.WEIGHTS)
    if artifact is None:
        raise HpoError(
            f"trial {chosen.number} of {name!r} kept no weights (only the built-in training "
            "objective saves them, for the study's best trials)"
        )
    if file.exists():
        raise InvalidInputError(f"--weights {file}: the file exists; choose another name")
    store = artifact_store(spec, study_id, storage, storage_url)
    try:
        optuna.artifacts.download_artifact(
            artifact_store=store, artifact_id=str(artifact), file_path=str(file)
        )
    except (FileNotFoundError, ArtifactNotFound):
        raise HpoError(
            f"the weights of trial {chosen.number} are not in {_where(spec, storage_url)}"
        ) from None
    return chosen.number


def _where(spec: StudySpec, storage_url: str) -> str:
    if spec.artifact_dir:
        return f"its artifact directory {spec.artifact_dir} (a directory every worker shares?)"
    if spec.artifacts_in_database:
        return f"the study's database ({mask_url(storage_url)})"
    return (
        f"{legacy_artifact_dir(storage_url)} (a study made before hpo kept weights in the "
        "database keeps them on the machine that ran the trial)"
    )
