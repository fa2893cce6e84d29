"""The resumable training state: one file, written whole or not at all.

A run that finds a state written with the same params (its fingerprint) continues after the
saved epoch; anything else (a torn file, other params) is ignored with a warning and the run
starts afresh.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

import torch

log = logging.getLogger("training")


def write_state(path: str, state: dict[str, Any]) -> None:
    save_whole(state, Path(path), "training state")


def save_whole(data: object, target: Path, what: str) -> None:
    """``torch.save(data)`` into ``target``, whole or not at all: a reader never sees half a
    file, and a failed write leaves no partial temporary file behind.

    On a full or unwritable disk the error is an OSError that names the file and says why
    (``cannot write the training state …/state.pt: no space left on device``): torch, writing
    to a path, says only ``[enforce fail at inline_container.cc:…] unexpected pos``.
    """
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise unwritable(what, target, exc) from exc
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    writer: _Writes | None = None
    try:
        with tmp.open("wb") as file:
            writer = _Writes(file)
            torch.save(data, cast("IO[bytes]", writer))  # torch calls write and flush only
        tmp.replace(target)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        cause = exc if isinstance(exc, OSError) else writer.error if writer else None
        if cause is not None:
            raise unwritable(what, target, cause) from exc
        raise


class UnwritableError(OSError):
    """A file of the run could not be written (a full disk, no permission, a read-only
    filesystem): its message names the file and says why, in one line; ``errno`` and
    ``filename`` are the cause's and the file's, for whoever decides what that means."""

    def __str__(self) -> str:
        return str(self.strerror)


def unwritable(what: str, path: Path, cause: OSError) -> UnwritableError:
    """``cannot write the {what} {path}: no space left on device``."""
    reason = os.strerror(cause.errno) if cause.errno else str(cause)
    message = f"cannot write the {what} {path}: {reason[:1].lower()}{reason[1:]}"
    return UnwritableError(cause.errno, message, str(path))


class _Writes:
    """The file torch writes to, keeping the first error of a write: torch turns it into a
    RuntimeError that no longer says what it was."""

    def __init__(self, file: BinaryIO) -> None:
        self._file = file
        self.error: OSError | None = None

    def write(self, data: bytes) -> int:
        try:
            return self._file.write(data)
        except OSError as exc:
            self.error = self.error or exc
            raise

    def flush(self) -> None:
        self._file.flush()


def read_state(path: str | None, fingerprint: str, device: torch.device) -> dict[str, Any] | None:
    if not path or not Path(path).exists():
        return None
    try:
        state: dict[str, Any] = torch.load(path, map_location=device, weights_only=False)
    except Exception as exc:
        log.warning("ignoring unreadable training state %s: %s", path, exc)
        return None
    if state.get("fingerprint") != fingerprint:
        log.warning("ignoring training state %s: it belongs to other params", path)
        return None
    return state
