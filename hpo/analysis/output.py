"""Where ``compare --out`` and ``report --out`` write: a folder, made if missing.

A file where the folder should be, a path that cannot be made (``/proc/x``) or written is one
line naming it, not a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hpo.errors import HpoError, InvalidInputError


def output_folder(path: Path) -> Path:
    """``path`` as a folder to write into, made with its parents if missing."""
    if path.exists() and not path.is_dir():
        raise InvalidInputError(f"--out {path}: is a file, not a folder; name a folder")
    with writing(path):
        path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def writing(folder: Path) -> Iterator[None]:
    """Failures to create or write files under ``folder`` as one line (exit 1: the
    environment: permissions, a full or read-only disk, a path no folder can be made in)."""
    try:
        yield
    except OSError as exc:
        where = exc.filename or folder
        raise HpoError(f"--out {folder}: cannot write {where}: {exc.strerror or exc}") from None
