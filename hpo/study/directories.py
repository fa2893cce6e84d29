"""Where a study's trials keep their files on disk, and for how long.

Each trial has a directory of its own, the same for every attempt of it (keyed by its first
attempt's number), so that a retry resumes from what the earlier attempt saved: under the
study's ``checkpoint_dir`` (a directory every worker shares, so that a retry on another
machine finds it) or else this machine's cache (``$HPO_CACHE_DIR/checkpoints``).

A study's folder is named by the study's id in its database and a digest of its exact name
and creation time, never by its name alone: two studies whose names differ only in characters
a file name cannot hold, or that share a long prefix, or that live in two databases sharing
one checkpoint directory, never share a folder. Studies made before spec version 3 keep the
folder they had (a retry across an upgrade still finds its checkpoint).

Lifetime: a trial's directory is removed when the trial is over for good, unless the trial
left files of its own there (a command's outputs); ``hpo delete-study`` removes the study's
folder, where this machine reaches it.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import shutil
from pathlib import Path

from hpo import env
from hpo.study.spec import StudySpec

#: A trial's log file (``hpo.worker.trial_log``; a command's output).
TRIAL_LOG = "trial.log"


def checkpoint_root(spec: StudySpec) -> Path:
    """The directory every trial directory of the study lies under, on this machine."""
    if spec.liveness.checkpoint_dir:
        return Path(spec.liveness.checkpoint_dir)
    return env.cache_root() / "checkpoints"


def study_directory(spec: StudySpec, study_id: int) -> Path:
    """The study's own folder under its checkpoint root."""
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", spec.name)[:40]
    if spec.version < 3:  # as earlier hpo named it: by name and creation second
        return (
            checkpoint_root(spec)
            / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', spec.name)[:100]}-{int(spec.created_at)}"
        )
    digest = hashlib.sha256(f"{spec.name}\0{spec.created_at!r}".encode()).hexdigest()[:12]
    return checkpoint_root(spec) / f"{readable[:40]}-{study_id}-{digest}"


def trial_directory(spec: StudySpec, study_id: int, first_number: int) -> Path:
    """A trial's own directory, the same for every attempt of it."""
    return study_directory(spec, study_id) / f"trial-{first_number}"


def tidy_trial_directory(directory: Path, *, log_kept: bool, final: bool) -> None:
    """An attempt is over: its log goes when the study's database holds it (a retry starts
    its own); ``final`` (no retry will follow), the directory too, unless the trial left
    files of its own there."""
    if log_kept:
        with contextlib.suppress(OSError):
            (directory / TRIAL_LOG).unlink(missing_ok=True)
    if final:
        with contextlib.suppress(OSError):  # not empty (the trial's own files), or never made
            directory.rmdir()


def tidy_study_directory(spec: StudySpec, study_id: int) -> None:
    """The study is done: its folder goes if no trial left anything in it."""
    with contextlib.suppress(OSError):
        study_directory(spec, study_id).rmdir()


def remove_study_directory(spec: StudySpec, study_id: int) -> Path | None:
    """``hpo delete-study``: the study's folder and everything in it, where this machine
    reaches it; the folder removed, or None when there was none here."""
    folder = study_directory(spec, study_id)
    if not folder.is_dir():
        return None
    shutil.rmtree(folder)
    return folder
