"""Keeping the storage URL (and its password) away from the trials a worker runs.

A command trial runs as the worker's user, so it may read what that user reads of the worker
process: its environment (``/proc/PID/environ``), its command line (``/proc/PID/cmdline``,
readable by every user), its memory (``/proc/PID/mem``, ptrace). Removing a variable from
``os.environ`` changes none of these: ``/proc/PID/environ`` shows the block the process was
started with. A process that runs trials therefore calls :func:`protect_process` first:

- ``HPO_STORAGE`` leaves its environment, and its value is overwritten in that initial block;
  a password given with ``--storage`` is overwritten on its command line (the URL stays in
  the process's memory only);
- it becomes non-dumpable (``PR_SET_DUMPABLE`` 0): its ``/proc/PID/environ``, ``mem`` and
  ``fd`` become root's, and processes of the same user can no longer ptrace it. Linux resets
  this at exec, so the trials themselves stay ordinary processes.

Root is not kept out by any of this (it reads any process's memory). The worker processes hpo
starts itself (``hpo worker --gpus``, ``hpo run --workers``) get the URL through a pipe whose
descriptor ``HPO_STORAGE_FD`` names (:func:`url_pipe`, :func:`read_inherited_url`), never
through their environment or command line.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from hpo import env
from hpo.errors import HpoError
from hpo.storage.url import passwords_of

_PR_SET_DUMPABLE = 4
#: Fields of ``/proc/self/stat`` (1-based) that give where the initial blocks lie in memory.
_ARGV_FIELDS = (48, 49)
_ENV_FIELDS = (50, 51)


def protect_process(url: str | None) -> None:
    """Hide the storage URL of this process from the trials it will run (see above)."""
    value = os.environ.pop(env.STORAGE, None)
    os.environ.pop(env.STORAGE_FD, None)
    secrets = passwords_of(url or "") | passwords_of(value or "")
    prefix = f"{env.STORAGE}=".encode()
    _rewrite(_ENV_FIELDS, lambda entry: _blank_value(entry, prefix))
    if secrets:
        _rewrite(_ARGV_FIELDS, lambda entry: _blank_secrets(entry, secrets))
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)


def url_pipe(url: str) -> int:
    """The read end of a pipe that holds ``url``, for a child process (``pass_fds``; the
    caller closes it once the child started)."""
    read_end, write_end = os.pipe()
    data = url.encode()
    try:
        while data:  # a URL is far below a pipe's buffer: this never blocks
            data = data[os.write(write_end, data) :]
    finally:
        os.close(write_end)
    return read_end


def read_inherited_url() -> str | None:
    """The URL a parent hpo process passed through ``HPO_STORAGE_FD``; None without one."""
    value = os.environ.pop(env.STORAGE_FD, None)
    if value is None:
        return None
    try:
        fd = int(value)
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        os.close(fd)
    except (ValueError, OSError) as exc:
        raise HpoError(
            f"{env.STORAGE_FD}={value}: cannot read the storage URL from it ({exc}); it is set "
            f"by hpo for the workers it starts (set {env.STORAGE} instead)"
        ) from None
    return b"".join(chunks).decode()


def _blank_value(entry: bytes, prefix: bytes) -> bytes:
    if not entry.startswith(prefix):
        return entry
    return prefix + b"*" * (len(entry) - len(prefix))


def _blank_secrets(entry: bytes, secrets: Iterable[str]) -> bytes:
    for secret in sorted(secrets, key=len, reverse=True):
        encoded = secret.encode()
        entry = entry.replace(encoded, b"*" * len(encoded))
    return entry


def _rewrite(fields: tuple[int, int], change: Callable[[bytes], bytes]) -> None:
    """Overwrite entries of this process's initial argv or environment block in place (what
    ``/proc/PID/cmdline`` and ``environ`` show), each with one of the same length."""
    block = _block(fields)
    if block is None:
        return
    start, end = block
    data = ctypes.string_at(start, end - start)
    offset = 0
    for entry in data.split(b"\0"):
        changed = change(entry)
        if changed != entry and len(changed) == len(entry):
            ctypes.memmove(start + offset, changed, len(changed))
        offset += len(entry) + 1


def _block(fields: tuple[int, int]) -> tuple[int, int] | None:
    """(start, end) addresses of a block from ``/proc/self/stat``; None off Linux."""
    with contextlib.suppress(OSError, IndexError, ValueError):
        stat = Path("/proc/self/stat").read_bytes()
        values = stat[stat.rfind(b")") + 2 :].split()
        # Field N (1-based) is values[N - 3]: pid and name come before ``)``.
        start, end = (int(values[n - 3]) for n in fields)
        if 0 < start < end:
            return start, end
    return None
