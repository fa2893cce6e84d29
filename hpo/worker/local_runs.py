"""What this machine runs in the background for studies (``hpo run --detach``): a registry.

One small JSON file per background process (the workers' main process, a dashboard) under
``$HPO_CACHE_DIR/background/running/``, named by host and pid: its study, its storage (the URL
without its password, a SQLite path made absolute), its role, its pid and the process's start
time, its log file and the dashboard's URL. A process is the one an entry names only while a
process with that pid exists *and* started at that time: a pid the kernel gave to another
process since is not ours. Entries of processes that are gone are deleted whenever the registry
is read, so it never needs a daemon to keep it true.

The cache directory may be shared between machines (a home directory on NFS): entries carry
their host, and a machine reads only its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from hpo import env
from hpo.storage import mask_url

Role = Literal["workers", "dashboard"]


def background_root() -> Path:
    """Where background runs keep their logs (one folder per study) and the registry."""
    return env.cache_root() / "background"


def _registry() -> Path:
    return background_root() / "running"


def storage_key(url: str) -> str:
    """The storage as the registry names it: no password, a SQLite file by its absolute path
    (``sqlite:///hpo.db`` run in two directories is two storages)."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/"):
        path, _, query = url[len(prefix) :].partition("?")
        if path and path != ":memory:":
            url = prefix + str(Path(path).absolute()) + (f"?{query}" if query else "")
    return mask_url(url)


def study_folder(study: str) -> Path:
    """A study's folder of background logs: its name made safe for a file name."""
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", study)[:60].lstrip(".") or "study"
    return background_root() / readable


@dataclass(frozen=True)
class LocalRun:
    """One background process of a study on this machine."""

    study: str
    storage: str  # storage_key() of its storage
    role: Role
    pid: int
    started: str  # the process's start time as the kernel gives it (see process_start)
    log: str
    url: str | None = None  # the dashboard's
    host: str = ""
    since: float = 0.0  # seconds since the epoch, for people

    def path(self) -> Path:
        return _registry() / f"{_host_part(self.host)}-{self.pid}.json"

    def alive(self) -> bool:
        return process_start(self.pid) == self.started


def _host_part(host: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", host) or "host"


def process_start(pid: int) -> str | None:
    """The start time of process ``pid`` (clock ticks since boot, field 22 of
    ``/proc/PID/stat``), None when no such process runs or it is a zombie. Off Linux: ``"?"``
    for any live pid (no reuse check there)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        return _exists(pid)
    fields = stat[stat.rfind(")") + 2 :].split()
    # Fields after the name: state is field 3, start time field 22 (1-based).
    if not fields or fields[0] in ("Z", "X"):
        return None
    return fields[22 - 3]


def _exists(pid: int) -> str | None:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return "?"
    return "?"


def register(
    study: str, storage: str, role: Role, pid: int, log: Path, url: str | None = None
) -> LocalRun | None:
    """Record a process just started; None when it is gone already."""
    started = process_start(pid)
    if started is None:
        return None
    run = LocalRun(
        study=study,
        storage=storage_key(storage),
        role=role,
        pid=pid,
        started=started,
        log=str(log),
        url=url,
        host=socket.gethostname(),
        since=time.time(),
    )
    path = run.path()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(asdict(run)))
    partial.replace(path)  # a reader never sees half an entry
    return run


def forget(run: LocalRun) -> None:
    with contextlib.suppress(FileNotFoundError):
        run.path().unlink()


def local_runs(storage: str, study: str | None = None) -> list[LocalRun]:
    """The live background processes of this machine for a storage (and a study), oldest
    first; the entries of processes that are gone are deleted on the way."""
    key = storage_key(storage)
    host = socket.gethostname()
    found = []
    for run in _entries():
        if run.host != host:
            continue
        if not run.alive():
            forget(run)
            continue
        if run.storage == key and (study is None or run.study == study):
            found.append(run)
    return sorted(found, key=lambda r: (r.since, r.role != "workers"))


def _entries() -> Iterator[LocalRun]:
    folder = _registry()
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text())
            yield LocalRun(**data)
        except (OSError, ValueError, TypeError):
            # Half-written by a crash or from another hpo version: of no process we know.
            with contextlib.suppress(OSError):
                path.unlink()
