"""The coordinator's install: ``pip install hpo`` without the ``train`` extra has no torch, and
every command but a built-in objective's worker runs in it.

A real venv, made by ``python -m venv`` and ``pip install`` of this project as a user gets it
(from PyPI: about a minute), shares a SQLite study with the full install this test runs in.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import (
    ROOT,
    SEARCH_SPACES,
    assert_one_line_error,
    free_port,
    get_json,
    hpo_env,
    run_hpo,
    write_json,
    write_module,
)

#: The coordinator's venv must stay small (torch with CUDA makes a full one about 6 GB).
MAX_VENV_BYTES = 1_000_000_000
#: What the project's wheel is built from (as the Dockerfile copies it).
SOURCES = ("pyproject.toml", "README.md", "hpo", "training")


def _light_venv(where: Path) -> Path:
    """A fresh venv with ``pip install .`` of a copy of this project, no extra: its bin/."""
    source = where / "source"  # a copy: building in the work tree would leave build/ there
    source.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, source / name)
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    installed = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", str(source)],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    return venv / "bin"


def _du_bytes(path: Path) -> int:
    out = subprocess.run(["du", "-sk", str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0]) * 1024


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_the_coordinators_install_runs_every_command_but_training_without_torch(
    tmp_path: Path,
) -> None:
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    space = str(SEARCH_SPACES / "digits_cnn.json")
    # The full install (this test's own) trains one real trial, keeping its weights.
    trained = run_hpo(
        "run", "--space", space, "--max-trials", "1", "-p", "num_epochs=1", storage=storage,
        cwd=tmp_path,
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr

    started = time.monotonic()
    bin_dir = _light_venv(tmp_path)
    print(f"pip install . (no extra): {time.monotonic() - started:.0f} s")
    python = str(bin_dir / "python")
    probe = "import importlib.util as u; print(u.find_spec('torch'), u.find_spec('torchvision'))"
    no_torch = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True)
    assert no_torch.stdout.split() == ["None", "None"]
    size = _du_bytes(tmp_path / "venv")
    print(f"the coordinator's venv: {size / 1e6:.0f} MB")
    assert size < MAX_VENV_BYTES

    def light(*args: str, cwd: Path = tmp_path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(bin_dir / "hpo"), *args],
            capture_output=True,
            text=True,
            cwd=cwd,
            env=hpo_env(storage),
            timeout=300,
        )

    # A built-in objective's space is read, checked and stored without torch; the warning is
    # one line that says what its workers need.
    validated = light("validate", space)
    assert validated.returncode == 0, validated.stderr
    created = light("create-study", "--space", space, "--name", "later")
    assert created.returncode == 0, created.stderr
    warnings = [line for line in created.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "pip install 'hpo[train]'" in warnings[0], created.stderr

    status = light("status", "--json")
    assert status.returncode == 0, status.stderr
    assert {s["study"] for s in json.loads(status.stdout)} == {"digits_cnn", "later"}
    listed = light("trials", "digits_cnn", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    [trial] = json.loads(listed.stdout)
    assert trial["state"] == "complete"

    weights = tmp_path / "best.pt"
    best = light("best", "digits_cnn", "--weights", str(weights))
    assert best.returncode == 0, best.stderr
    assert json.loads(best.stdout)["epochs"] == 1
    import torch  # the full install reads what the light one fetched

    saved = torch.load(weights, weights_only=True)
    assert saved["model"] == "simple_cnn" and saved["state_dict"]

    report = light("report", "digits_cnn", "--out", str(tmp_path / "report"))
    assert report.returncode == 0, report.stderr
    assert "digits_cnn" in (tmp_path / "report" / "report.html").read_text()

    _check_the_dashboard(bin_dir, storage, tmp_path)

    # A worker of the built-in objective refuses before it takes a trial, in one line...
    worker = light("worker", "--study", "later")
    assert_one_line_error(worker, 1, "cannot run the trials of study 'later'", "'hpo[train]'")
    assert worker.stderr.count("\n") == 1, worker.stderr
    # ... and so does hpo run, before it creates anything.
    ran = light("run", "--space", space, "--name", "here")
    assert_one_line_error(ran, 1, "cannot run the trials of study 'here'", "'hpo[train]'")
    assert ran.stderr.count("\n") == 1, ran.stderr
    after = json.loads(light("status", "--json").stdout)
    assert {s["study"] for s in after} == {"digits_cnn", "later"}

    # A function's trials need no torch (unless the function does).
    write_module(tmp_path, "square", "def run(params):\n    return params['x'] ** 2\n")
    config = {
        "config": {"experimentName": "fn", "maxTrialNum": 2, "model": "square"},
        "search_space": {"x": {"_type": "uniform", "_value": [0, 1]}},
    }
    write_json(tmp_path / "fn.json", config)
    function_run = light("run", "--space", "fn.json")
    assert function_run.returncode == 0, function_run.stderr
    assert "best default" in function_run.stdout, function_run.stdout


def _check_the_dashboard(bin_dir: Path, storage: str, cwd: Path) -> None:
    """``hpo dashboard`` of the light install serves its page and the studies, then stops."""
    port = free_port()
    process = subprocess.Popen(
        [str(bin_dir / "hpo"), "dashboard", "--port", str(port)],
        env=hpo_env(storage),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                studies = get_json(f"{base}/api/studies")["study_summaries"]
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    _, err = process.communicate(timeout=10)
                    raise AssertionError(f"the dashboard did not start: {err}") from None
                time.sleep(0.3)
        assert {s["study_name"] for s in studies} == {"digits_cnn", "later"}
        with urllib.request.urlopen(f"{base}/dashboard", timeout=30) as response:
            assert response.status == 200
            assert "<html" in response.read().decode().lower()
    finally:
        process.terminate()
        assert process.wait(timeout=30) is not None
