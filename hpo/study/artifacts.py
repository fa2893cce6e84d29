"""Where a study keeps its best trials' weights: an Optuna file-system artifact store.

The study may name the directory (``artifact_dir`` in its config, ``--artifact-dir``); a path
every worker can write (shared between machines) keeps them all in one place. Otherwise they go
beside a SQLite database file (``hpo.db`` → ``hpo-artifacts/``), or, for a database server, into
each worker machine's cache (``$HPO_CACHE_DIR/artifacts``): ``hpo best --weights`` then finds a
trial's weights on the machine that ran it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import optuna
from optuna.artifacts import FileSystemArtifactStore
from optuna.storages import BaseStorage

from hpo import attrs, env
from hpo.errors import HpoError, InvalidInputError
from hpo.study.spec import StudySpec
from hpo.study.store import load_spec

_SQLITE_FILE = re.compile(r"^sqlite:///(?P<path>.+)$")


def artifact_dir(spec: StudySpec | None, storage_url: str) -> Path:
    """The directory of a study's artifact store (``spec`` None: the default for the storage,
    as ``hpo dashboard`` uses it)."""
    if spec is not None and spec.artifact_dir:
        return Path(spec.artifact_dir)
    match = _SQLITE_FILE.match(storage_url.split("?")[0])
    if match and match.group("path") != ":memory:":
        database = Path(match.group("path"))
        return database.with_name(f"{database.stem}-artifacts")
    cache = os.environ.get(env.CACHE_DIR) or Path.home() / ".cache" / "hpo"
    return Path(cache) / "artifacts"


def artifact_store(spec: StudySpec | None, storage_url: str) -> FileSystemArtifactStore:
    directory = artifact_dir(spec, storage_url)
    directory.mkdir(parents=True, exist_ok=True)
    return FileSystemArtifactStore(str(directory))


def download_best_weights(
    storage: BaseStorage, name: str, storage_url: str, file: Path, trial: int | None
) -> None:
    """Save the weights the best trial (or trial number ``trial``) kept to ``file``."""
    _, spec = load_spec(storage, name)
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
    try:
        optuna.artifacts.download_artifact(
            artifact_store=artifact_store(spec, storage_url),
            artifact_id=str(artifact),
            file_path=str(file),
        )
    except FileNotFoundError:
        raise HpoError(
            f"the weights of trial {chosen.number} are not in {artifact_dir(spec, storage_url)} "
            "(kept on the machine that ran it: give the study an artifact_dir every worker "
            "shares)"
        ) from None
