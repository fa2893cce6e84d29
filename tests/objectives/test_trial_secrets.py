"""A command trial cannot read its worker's secrets: real workers, started every way hpo
starts them, running a trial that looks for the storage password where a trial of the same
user could find it (its environment; each hpo process above it: command line, environment,
memory).

Nothing keeps root out (``CAP_SYS_PTRACE`` reads any process's memory), so when the tests run
as root (as in CI) the workers, and so their trials, run as ``nobody``: what the tests show is
what a trial of the worker's own, ordinary user can read. They keep only the right to read and
run files (``CAP_DAC_OVERRIDE``, ``CAP_DAC_READ_SEARCH``: the interpreter may lie in root's
home), which opens no other process to them. Where root reads the worker's environment,
the storage URL is not in it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import hpo_env, write_json

NOBODY = 65534

#: Looks for the secrets (named in secrets.json beside it) and writes what it found.
SPY = r"""
import json, os, sys
here = os.environ["NNI_CODE_DIR"]
secrets = json.load(open(os.path.join(here, "secrets.json")))
wanted = [s.encode() for s in secrets]

def parent(pid):
    stat = open(f"/proc/{pid}/stat", "rb").read()
    return int(stat[stat.rfind(b")") + 2 :].split()[1])

def look(pid, what):
    try:
        with open(f"/proc/{pid}/{what}", "rb") as f:
            data = f.read(1 << 20) if what != "mem" else b""
    except OSError as exc:
        return type(exc).__name__
    return [s.decode() for s in wanted if s in data]

named = ("PGPASS", "AWS_", "AZURE_", "HPO_STORAGE")
found = {"env": [k for k, v in os.environ.items() if any(s in v for s in secrets)],
         "names": sorted(k for k in os.environ if k.startswith(named)),
         "hpo": {}}
pid = os.getppid()
while pid > 1:
    cmdline = open(f"/proc/{pid}/cmdline", "rb").read()
    if b"-m\0hpo\0" in cmdline:
        found["hpo"][pid] = {w: look(pid, w) for w in ("cmdline", "environ", "mem")}
    pid = parent(pid)
with open(os.path.join(os.environ["NNI_OUTPUT_DIR"], "found.json"), "w") as f:
    json.dump(found, f)
print("@hpo final 1")
"""


@pytest.fixture
def work() -> Iterator[Path]:
    """The study's directory, open to every user (a checking call such as access(2) drops the
    capabilities that let nobody into pytest's own directories)."""
    path = Path(tempfile.mkdtemp(prefix="hpo-secrets-"))
    path.chmod(0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _ordinary() -> list[str]:
    """A command prefix that runs a process as an ordinary user (see above)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        message = "running workers as nobody needs setpriv (util-linux)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    caps = "+dac_override,+dac_read_search"
    return [
        *("setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"),
        *(f"--inh-caps={caps}", f"--ambient-caps={caps}", "--"),
    ]


def _config(work: Path, name: str, trials: int) -> dict[str, Any]:
    return {
        "config": {
            "experimentName": name,
            "objective": {"command": "python3 spy.py"},
            "maxTrialNum": trials,
            "checkpoint_dir": str(work / "ckpt"),
            "pruner": "none",
        },
        "search_space": {"x": {"_type": "uniform", "_value": [0, 1]}},
    }


def _setup(work: Path, pg_databases: Any, name: str, trials: int) -> tuple[str, dict[str, str]]:
    """The study's files, a storage URL with a password, a worker environment with secrets."""
    password = f"pw-{secrets.token_hex(8)}"
    url = pg_databases.create(password=password)  # trust auth: the password is not checked
    found = {
        "password": password,
        "PGPASSWORD": f"pg-{secrets.token_hex(8)}",
        "AWS_SECRET_ACCESS_KEY": f"aws-{secrets.token_hex(8)}",
        "AZURE_CLIENT_SECRET": f"az-{secrets.token_hex(8)}",
    }
    (work / "spy.py").write_text(SPY)
    write_json(work / "secrets.json", list(found.values()))
    write_json(work / "space.json", _config(work, name, trials))
    bin_dir = work / "bin"  # --gpus names GPUs the machine has: this nvidia-smi lists one
    bin_dir.mkdir()
    (bin_dir / "nvidia-smi").write_text("#!/bin/sh\nprintf '0\\n'\n")
    (bin_dir / "nvidia-smi").chmod(0o755)
    env = hpo_env(
        url,
        HPO_CACHE_DIR=str(work / "cache"),
        PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        **{k: v for k, v in found.items() if k != "password"},
    )
    return url, env


def _hpo(args: list[str], env: dict[str, str], cwd: Path, prefix: list[str] | None = None) -> None:
    result = subprocess.run(
        [*(prefix or []), sys.executable, "-m", "hpo", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr


def _findings(work: Path, expected: int) -> list[dict[str, Any]]:
    found = [json.loads(p.read_text()) for p in (work / "ckpt").rglob("found.json")]
    assert len(found) == expected
    return found


PATHS = {
    # how the worker is started → (command line, trials, hpo processes above each trial)
    "worker": (["worker", "--study", "{name}"], 1, 1),
    "gpus": (["worker", "--study", "{name}", "--gpus", "0"], 1, 2),
    "run": (["run", "--space", "space.json"], 1, 1),
    "run-workers": (["run", "--space", "space.json", "--workers", "2"], 2, 2),
}


@pytest.mark.postgres
@pytest.mark.parametrize("path", list(PATHS))
def test_a_trial_of_the_workers_user_cannot_read_its_secrets(
    work: Path, pg_databases: Any, path: str
) -> None:
    args, count, above = PATHS[path]
    name = f"spied-{path}"
    _, env = _setup(work, pg_databases, name, count)
    if args[0] == "worker":
        _hpo(["create-study", "--space", "space.json"], env, work)
    _hpo([a.format(name=name) for a in args], env, work, _ordinary())
    for found in _findings(work, count):
        assert found["env"] == [] and found["names"] == [], found
        assert len(found["hpo"]) == above, found  # the worker (and the supervisor)
        for pid, seen in found["hpo"].items():
            # Its command line is readable by anyone, and holds no secret.
            assert seen["cmdline"] == [], (pid, seen)
            # Its environment and memory are not readable at all (non-dumpable).
            assert seen["environ"] == "PermissionError", (pid, seen)
            assert seen["mem"] == "PermissionError", (pid, seen)


@pytest.mark.postgres
@pytest.mark.parametrize("given", ["environment", "option"])
def test_the_storage_password_is_not_in_the_workers_environment_or_command_line(
    work: Path, pg_databases: Any, given: str
) -> None:
    """As whoever runs the tests (root in CI, who reads any /proc/PID/environ): the URL given
    in HPO_STORAGE or --storage is overwritten where /proc shows it."""
    url, env = _setup(work, pg_databases, "scrubbed", 1)
    _hpo(["create-study", "--space", "space.json"], env, work)
    args = ["worker", "--study", "scrubbed"]
    if given == "option":
        env = {k: v for k, v in env.items() if k != "HPO_STORAGE"}
        args += ["--storage", url]
    _hpo(args, env, work)
    (found,) = _findings(work, 1)
    ((_, seen),) = found["hpo"].items()
    password = json.loads((work / "secrets.json").read_text())[0]
    assert seen["cmdline"] == [], seen
    if os.geteuid() == 0:  # root reads it: the password is not in it
        assert password not in seen["environ"], seen
    else:  # nobody else does
        assert seen["environ"] == "PermissionError", seen
