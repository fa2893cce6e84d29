"""The trials' own directories, on a disk that may be full or refuse this worker's writes.

An objective that keeps files in its trials' directories (the built-in training's state and
weights, a command's log) can run no trial when that disk is full, read-only or not this
worker's to write: each trial would fail in turn, each taking one of the study's budget. So a
worker looks before it takes a trial (:func:`check_trials_root`, one line, exit 1), and a
trial that finds its directory full or unwritable midway (:func:`unwritable_directory`) is
queued again, to resume elsewhere or later, while its worker stops saying why.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

from hpo import env
from hpo.errors import HpoError
from hpo.study import StudySpec

#: What a failed write says about the disk rather than about the trial.
DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM})
#: Bytes the look before the first trial writes (and syncs): a disk that cannot take them
#: cannot take a trial's state either.
PROBE_BYTES = 64 * 1024


def check_trials_root(root: Path, where: str) -> None:
    """HpoError, naming ``root`` (``where``: what it is, for the message), when no trial
    could write there; nothing is left behind when it can."""
    probe = root / f".hpo-write-check-{os.getpid()}"
    try:
        root.mkdir(parents=True, exist_ok=True)
        with probe.open("wb") as file:
            file.write(bytes(PROBE_BYTES))
            file.flush()
            os.fsync(file.fileno())  # a network filesystem may refuse the bytes only here
    except OSError as exc:
        raise HpoError(
            f"the trials' directory {root} ({where}) cannot be written: {_reason(exc)}; "
            "make room or fix its permissions, or give the study another checkpoint_dir"
        ) from None
    finally:
        with contextlib.suppress(OSError):  # a directory that refused it has nothing to clean
            probe.unlink(missing_ok=True)


def where_trials_live(spec: StudySpec) -> str:
    """What the trials' directory of ``spec`` is, for a message."""
    if spec.liveness.checkpoint_dir:
        return "the study's checkpoint_dir"
    return f"this machine's cache; {env.CACHE_DIR} moves it"


def unwritable_directory(exc: BaseException, directory: Path) -> str | None:
    """The reason, when ``exc`` is a write refused by the disk under ``directory``'s parent
    (the study's directory of trial directories); None for any other failure."""
    if not isinstance(exc, OSError) or exc.errno not in DISK_ERRNOS or not exc.filename:
        return None
    root = directory.parent.resolve()
    where = Path(os.fsdecode(exc.filename)).resolve()
    if where != root and not where.is_relative_to(root):
        return None
    text = str(exc)
    # An OSError as Python raises it names its errno and file; a clearer one (training's)
    # says the same in words.
    return text if str(exc.filename) in text else f"{text}: {where}"


def _reason(exc: OSError) -> str:
    if exc.errno:
        text = os.strerror(exc.errno)
        return text[:1].lower() + text[1:]
    return str(exc)
