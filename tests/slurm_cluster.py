"""A real single-node Slurm cluster on 127.0.0.1, for tests that submit the deploy files' jobs.

Debian's Slurm and MUNGE, installed with apt-get where missing. Every daemon is a child of the
test process with its files in one temporary directory: munged on its own socket and key, a
MariaDB server of its own (slurmdbd's database, which ``sacct`` reads), slurmdbd, slurmctld
and slurmd, each on a free port of 127.0.0.1; no service or configuration of the machine's own
is used or changed (beyond installing the packages). The node declares what
``deploy/slurm/hpo-workers.sbatch`` asks of each task (8 CPUs, 32 GB, one GPU) three times
over, whatever the machine has (``config_overrides``), so that three tasks run at once with the
script unchanged. Its GPUs are generic resources on placeholder device files: Slurm hands each
task one (``CUDA_VISIBLE_DEVICES``), and hpo, finding no CUDA, trains on the CPU.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import free_port, wait_for

#: Each command the cluster runs, and the Debian package that ships it.
COMMANDS = {
    "munged": "munge",
    "mariadb-install-db": "mariadb-server",
    "mariadbd": "mariadb-server",
    "slurmdbd": "slurmdbd",
    "slurmctld": "slurmctld",
    "slurmd": "slurmd",
    "sbatch": "slurm-client",
    "scancel": "slurm-client",
    "scontrol": "slurm-client",
    "squeue": "slurm-client",
    "sinfo": "slurm-client",
    "sacct": "slurm-client",
}
#: Tasks that fit on the node at once: CPUs, memory and GPUs are declared for this many.
TASKS = 3
#: slurmdbd's few rows need little: 26 MB on disk instead of MariaDB's default 120 MB.
SMALL_DATABASE = ("--innodb-log-file-size=8M", "--innodb-buffer-pool-size=32M")
#: Hang guards only: how long a daemon may take to come up, jobs to leave at the end.
START_TIMEOUT = 300.0
STOP_TIMEOUT = 120.0


def _which(command: str) -> str | None:
    # The daemons live in sbin, which a plain user's PATH may lack.
    return shutil.which(command, path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")


def install() -> dict[str, str]:
    """The path of every command, installing the packages that are missing (as root, with
    apt-get). Fails the test with the reason when they cannot be installed: never a skip."""
    missing = sorted({COMMANDS[c] for c in COMMANDS if _which(c) is None})
    if missing:
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            pytest.fail(
                f"the Slurm test cluster needs Debian's {' '.join(missing)}, and they cannot be "
                "installed here (apt-get as root): install them and run the test again"
            )
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        command = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing]
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode != 0:  # the package lists may be stale or absent
            subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True)
            done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            reason = (done.stderr.strip() or done.stdout.strip()).splitlines()[-3:]
            pytest.fail(f"{' '.join(command)} failed: {' / '.join(reason)}")
    paths = {c: _which(c) for c in COMMANDS}
    absent = [c for c, path in paths.items() if path is None]
    if absent:
        pytest.fail(f"installed, yet not found: {', '.join(absent)}")
    return {c: str(path) for c, path in paths.items()}


def listening(port: int) -> Callable[[], bool]:
    def connects() -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    return connects


class SlurmCluster:
    """The daemons, started by :meth:`started`; ``env`` points Slurm's commands at them."""

    def __init__(self, root: Path, paths: dict[str, str]) -> None:
        self.root = root
        self.bin = paths
        self.conf = root / "etc" / "slurm.conf"
        self.env = {"SLURM_CONF": str(self.conf)}
        self.daemons: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.jobs: list[str] = []

    @classmethod
    @contextlib.contextmanager
    def started(cls) -> Iterator[SlurmCluster]:
        paths = install()
        # munged wants every directory above its socket searchable by all: not pytest's
        # private temporary directories, so a directory of its own under the system's.
        root = Path(tempfile.mkdtemp(prefix="hpo-slurm-"))
        root.chmod(0o755)
        cluster = cls(root, paths)
        try:
            cluster._start()
            yield cluster
        finally:
            cluster._stop()
            shutil.rmtree(root, ignore_errors=True)

    # -- Slurm's commands ---------------------------------------------------------------------

    def run(
        self,
        *args: str,
        check: bool = True,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """One of Slurm's commands, against this cluster (with ``env``: a user's environment)."""
        done = subprocess.run(
            [self.bin[args[0]], *args[1:]],
            env={**(os.environ if env is None else env), **self.env},
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=STOP_TIMEOUT,  # a hang guard: each answers in well under a second
        )
        if check and done.returncode != 0:
            raise AssertionError(f"{' '.join(args)}: {done.stderr.strip()}\n{self.logs()}")
        return done

    def sbatch(self, *args: str, env: dict[str, str], cwd: Path) -> str:
        """Submit a job as a user would (their environment, their directory): its id."""
        job = self.run("sbatch", "--parsable", *args, env=env, cwd=cwd).stdout.strip()
        self.jobs.append(job.split(";")[0])  # "ID;CLUSTER" where several clusters are known
        return self.jobs[-1]

    def pids(self, task: str) -> list[int]:
        """The processes of a running array task (``JOB_TASK``, as squeue shows it)."""
        ids = self.run("squeue", "-h", "-r", "-o", "%i %A").stdout.split()
        raw = dict(zip(ids[::2], ids[1::2], strict=True))[task]
        rows = self.run("scontrol", "listpids", raw).stdout.splitlines()[1:]
        return [int(row.split()[0]) for row in rows if row.split() and row.split()[0].isdigit()]

    def logs(self, lines: int = 15) -> str:
        """The end of each daemon's log, for a failure's message."""
        parts = []
        for log in sorted((self.root / "log").glob("*.log")):
            tail = log.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {log.name}\n" + "\n".join(tail))
        return "\n".join(parts)

    # -- starting and stopping ----------------------------------------------------------------

    def _start(self) -> None:
        root = self.root
        for sub in ("etc", "run", "log", "state", "spool", "dev", "db"):
            (root / sub).mkdir(mode=0o755)
        (root / "munge").mkdir(mode=0o700)
        key = root / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        munge_socket = root / "run" / "munge.sock"
        ports = {name: free_port() for name in ("slurmctld", "slurmd", "slurmdbd", "mariadb")}
        host = socket.gethostname().split(".")[0]
        self._write_config(munge_socket, ports, host)
        self._daemon(
            "munged",
            "--foreground",
            f"--socket={munge_socket}",
            f"--key-file={key}",
            f"--pid-file={root / 'run' / 'munged.pid'}",
            f"--seed-file={root / 'munge' / 'seed'}",
            f"--log-file={root / 'log' / 'munged.log'}",
        )
        self._await("munged", munge_socket.exists)
        subprocess.run(
            [
                self.bin["mariadb-install-db"],
                "--no-defaults",
                f"--datadir={root / 'db'}",
                "--user=root",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                *SMALL_DATABASE,
            ],
            capture_output=True,
            check=True,
            timeout=START_TIMEOUT,
        )
        self._daemon(
            "mariadbd",
            "--no-defaults",
            f"--datadir={root / 'db'}",
            "--user=root",
            f"--socket={root / 'run' / 'mariadb.sock'}",
            "--bind-address=127.0.0.1",
            f"--port={ports['mariadb']}",
            f"--log-error={root / 'log' / 'mariadb.log'}",
            "--skip-log-bin",
            *SMALL_DATABASE,
        )
        self._await("mariadbd", listening(ports["mariadb"]))
        self._daemon("slurmdbd", "-D")
        self._await("slurmdbd", listening(ports["slurmdbd"]))
        self._daemon("slurmctld", "-D")
        self._await("slurmctld", listening(ports["slurmctld"]))
        self._daemon("slurmd", "-D", "-N", "node1")
        self._await(
            "the node", lambda: self.run("sinfo", "-h", "-o", "%T", check=False).stdout == "idle\n"
        )

    def _write_config(self, munge_socket: Path, ports: dict[str, int], host: str) -> None:
        root = self.root
        gpus = [root / "dev" / f"gpu{i}" for i in range(TASKS)]
        for gpu in gpus:
            # Slurm accepts only device files as a GPU's File (/dev/null's numbers: inert).
            os.mknod(gpu, 0o644 | stat.S_IFCHR, os.makedev(1, 3))
        (root / "etc" / "gres.conf").write_text(
            f"NodeName=node1 Name=gpu File={root / 'dev'}/gpu[0-{TASKS - 1}]\n"
        )
        self.conf.write_text(
            "\n".join(
                [
                    "ClusterName=hpotest",
                    f"SlurmctldHost={host}(127.0.0.1)",
                    f"SlurmctldPort={ports['slurmctld']}",
                    f"SlurmdPort={ports['slurmd']}",
                    "SlurmUser=root",
                    "SlurmdUser=root",
                    "AuthType=auth/munge",
                    "CredType=cred/munge",
                    f"AuthInfo=socket={munge_socket}",
                    "AccountingStorageType=accounting_storage/slurmdbd",
                    "AccountingStorageHost=127.0.0.1",
                    f"AccountingStoragePort={ports['slurmdbd']}",
                    # With MUNGE this names the socket to authenticate to slurmdbd with.
                    f"AccountingStoragePass={munge_socket}",
                    "JobAcctGatherType=jobacct_gather/none",
                    f"StateSaveLocation={root / 'state'}",
                    f"SlurmdSpoolDir={root / 'spool'}",
                    f"SlurmctldPidFile={root / 'run' / 'slurmctld.pid'}",
                    f"SlurmdPidFile={root / 'run' / 'slurmd.pid'}",
                    f"SlurmctldLogFile={root / 'log' / 'slurmctld.log'}",
                    f"SlurmdLogFile={root / 'log' / 'slurmd.log'}",
                    # No cgroups: the processes of a job are found through /proc.
                    "ProctrackType=proctrack/linuxproc",
                    "TaskPlugin=task/none",
                    "MpiDefault=none",
                    "SelectType=select/cons_tres",
                    "SelectTypeParameters=CR_Core",
                    # The node as declared below, not as this machine is.
                    "SlurmdParameters=config_overrides",
                    "GresTypes=gpu",
                    "ReturnToService=2",
                    # As on most clusters: SIGTERM, then SIGKILL 30 s later.
                    "KillWait=30",
                    # A busy machine answers slowly; the default 10 s would drop messages.
                    "MessageTimeout=60",
                    f"NodeName=node1 NodeHostname={host} NodeAddr=127.0.0.1 CPUs={8 * TASKS} "
                    f"RealMemory={32 * 1024 * TASKS} Gres=gpu:{TASKS} State=UNKNOWN",
                    "PartitionName=debug Nodes=node1 Default=YES MaxTime=INFINITE State=UP",
                    "",
                ]
            )
        )
        dbd = root / "etc" / "slurmdbd.conf"
        dbd.write_text(
            "\n".join(
                [
                    "AuthType=auth/munge",
                    f"AuthInfo=socket={munge_socket}",
                    "DbdHost=localhost",
                    "DbdAddr=127.0.0.1",
                    f"DbdPort={ports['slurmdbd']}",
                    "SlurmUser=root",
                    "StorageType=accounting_storage/mysql",
                    "StorageHost=127.0.0.1",
                    f"StoragePort={ports['mariadb']}",
                    "StorageUser=root",
                    "StorageLoc=slurm_acct_db",
                    f"PidFile={root / 'run' / 'slurmdbd.pid'}",
                    f"LogFile={root / 'log' / 'slurmdbd.log'}",
                    "",
                ]
            )
        )
        dbd.chmod(0o600)  # slurmdbd refuses a config others can read

    def _daemon(self, name: str, *args: str) -> None:
        """Start one daemon in the foreground, as a child of this process (stopped by pid)."""
        out = (self.root / "log" / f"{name}.out").open("wb")
        process = subprocess.Popen(
            [self.bin[name], *args],
            env={**os.environ, **self.env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C of the test run reaches it through _stop
        )
        out.close()
        self.daemons.append((name, process))

    def _await(self, name: str, ready: Callable[[], bool]) -> None:
        """Wait until ``name`` is ready; fail at once, with its output, if a daemon died."""

        def up() -> bool:
            for daemon, process in self.daemons:
                if process.poll() is not None:
                    output = (self.root / "log" / f"{daemon}.out").read_text(errors="replace")
                    raise AssertionError(
                        f"{daemon} exited with {process.returncode}: {output}\n{self.logs()}"
                    )
            return ready()

        wait_for(up, START_TIMEOUT, f"{name} to be ready\n{self.logs()}")

    def _stop(self) -> None:
        """Cancel the jobs, wait for their processes to end, then stop the daemons."""
        running = [n for n, p in self.daemons if p.poll() is None]
        if self.jobs and "slurmctld" in running and "slurmd" in running:
            self.run("scancel", *self.jobs, check=False)
            with contextlib.suppress(AssertionError):
                wait_for(
                    lambda: not self.run("squeue", "-h", check=False).stdout.strip(),
                    STOP_TIMEOUT,
                    "the jobs to end",
                )
        for _, process in reversed(self.daemons):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
