"""Separate machines on one host, for tests of the multi-machine path.

A :class:`Machine` has its own HOME, hpo cache and working directory and, where the kernel
lets this process make one (root, ``ip netns``), its own network namespace: it reaches the
database only over its own virtual link, through a :class:`Forwarder` that the test runs on
the host side of that link (the local PostgreSQL listens on 127.0.0.1 only). What the machines
share is what a cluster's machines share: the database URL, and the directories the test
names as shared (a file server's).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.engine import make_url

#: Bytes per read while relaying a connection.
RELAY_CHUNK = 1 << 16


class Forwarder:
    """Relays TCP connections from ``listen`` to ``target``, one thread per direction."""

    def __init__(self, listen: tuple[str, int], target: tuple[str, int]) -> None:
        self._target = target
        self._server = socket.create_server(listen)
        self.address: tuple[str, int] = self._server.getsockname()[:2]
        self._open: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:  # closed
                return
            try:
                upstream = socket.create_connection(self._target)
            except OSError:
                client.close()
                continue
            self._open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(a, b), daemon=True).start()

    def close(self) -> None:
        self._server.close()
        for conn in self._open:
            with contextlib.suppress(OSError):
                conn.close()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(RELAY_CHUNK):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


class Machine:
    """One machine: its directories, its network, the database URL as it reaches it."""

    def __init__(self, root: Path, name: str, database_url: str, netns: str | None) -> None:
        self.name = name
        self.home = root / name / "home"
        self.cwd = root / name / "work"
        self.cache = root / name / "cache"
        for directory in (self.home, self.cwd, self.cache):
            directory.mkdir(parents=True)
        self.netns = netns
        self.database_url = database_url

    def env(self, **extra: str) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("HPO_", "XDG_"))}
        return {
            **keep,
            "HOME": str(self.home),
            "HPO_CACHE_DIR": str(self.cache),
            "HPO_WORKER_LABEL": self.name,
            "HPO_STORAGE": self.database_url,
            "PYTHONUNBUFFERED": "1",
            **extra,
        }

    def command(self, *args: str) -> list[str]:
        hpo = [sys.executable, "-m", "hpo", *args]
        return ["ip", "netns", "exec", self.netns, *hpo] if self.netns else hpo

    def run(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args),
            capture_output=True,
            text=True,
            cwd=self.cwd,
            env=self.env(),
            timeout=timeout,
        )

    def start(self, *args: str) -> subprocess.Popen[str]:
        # ``ip netns exec`` execs the command: the process is hpo itself, as a signal needs.
        return subprocess.Popen(
            self.command(*args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=self.cwd,
            env=self.env(),
        )


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


def namespaces_allowed() -> str | None:
    """None when this process can make network namespaces; else why not."""
    if shutil.which("ip") is None:
        return "iproute2's ip is not installed"
    probe = f"hpo-probe-{secrets.token_hex(3)}"
    try:
        _ip("netns", "add", probe)
    except (subprocess.CalledProcessError, OSError) as exc:
        return f"ip netns add failed: {getattr(exc, 'stderr', exc)}".strip()
    _ip("netns", "del", probe)
    return None


@contextlib.contextmanager
def machines(root: Path, names: list[str], database_url: str) -> Iterator[list[Machine]]:
    """Machines that reach the database at ``database_url`` (a server on this host) each
    through a network of its own where the kernel allows, else through the host's."""
    why_not = namespaces_allowed()
    if why_not is not None:
        print(f"machines share the host's network: {why_not}")
        yield [Machine(root, name, database_url, None) for name in names]
        return
    url = make_url(database_url)
    target = (url.host or "127.0.0.1", url.port or 5432)
    tag = secrets.token_hex(2)
    subnet = 200 + secrets.randbelow(50)  # 10.2xx.i.0/30 per machine
    created: list[str] = []
    forwarders: list[Forwarder] = []
    try:
        made = []
        for i, name in enumerate(names, start=1):
            ns, host_if, ns_if = f"hpo-{tag}-{i}", f"hpo{tag}h{i}", f"hpo{tag}n{i}"
            host_ip, ns_ip = f"10.{subnet}.{i}.1", f"10.{subnet}.{i}.2"
            _ip("netns", "add", ns)
            created.append(ns)
            _ip("link", "add", host_if, "type", "veth", "peer", "name", ns_if)
            _ip("link", "set", ns_if, "netns", ns)
            _ip("addr", "add", f"{host_ip}/30", "dev", host_if)
            _ip("link", "set", host_if, "up")
            for args in (
                ("addr", "add", f"{ns_ip}/30", "dev", ns_if),
                ("link", "set", ns_if, "up"),
                ("link", "set", "lo", "up"),
            ):
                _ip("-n", ns, *args)
            forwarder = Forwarder((host_ip, 0), target)
            forwarders.append(forwarder)
            port = forwarder.address[1]
            seen_as = url.set(host=host_ip, port=port).render_as_string(hide_password=False)
            made.append(Machine(root, name, seen_as, ns))
        yield made
    finally:
        for forwarder in forwarders:
            forwarder.close()
        for ns in created:  # the veth pair goes with its namespace
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
