"""The cluster path on separate machines: three workers, each with its own HOME, cache,
working directory and network namespace, sharing only the PostgreSQL URL and the shared
checkpoint directory (what a cluster's file server holds); a fourth machine reads the results.

A study with a baseline and a time budget is created and left waiting (a queue), then run:
the trial budget is exact, a worker SIGKILLed mid-trial has its trial resumed by another
machine from the shared checkpoint, and from the fourth machine ``hpo best --weights``,
``hpo logs`` and ``hpo status`` (*done*) work after the workers are gone.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
import torch
from optuna.trial import TrialState

from hpo.optuna_compat import RETRY_OF, original_number, retry_count
from tests.helpers import trials, wait_for
from tests.machines import Machine, machines

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.serial]  # network namespaces

BUDGET = 6
PATIENCE = 900
DIGITS = {
    "device": "cpu",
    "dataset": "digits",
    "model": "simple_cnn",
    "resolution": 32,  # under a second per epoch on two cores: long enough to stop mid-way
    "num_epochs": 4,
    "momentum": 0.9,
    "batch_size": 64,
    "lr": 0.05,
    "weight_decay": 1e-4,  # a value of the searched param: the baseline trial takes it
}


def _status(machine: Machine, name: str) -> dict[str, object]:
    shown = machine.run("status", "--json")
    assert shown.returncode == 0, shown.stderr
    return next(s for s in json.loads(shown.stdout) if s["study"] == name)


def _saved_on(pg_url: str, name: str, label: str, shared: Path) -> list[int]:
    """The trials a machine runs whose training state is saved (an epoch done) on the shared
    file server (the state file, not the database: reports reach it in batches)."""
    return [
        t.number
        for t in trials(pg_url, name)
        if t.state == TrialState.RUNNING
        and str(t.user_attrs.get("hpo:worker", "")).endswith(f"/{label}")
        and list(shared.rglob(f"trial-{original_number(t)}/state.pt"))
    ]


def test_three_machines_run_one_study_and_a_fourth_reads_it(tmp_path: Path, pg_url: str) -> None:
    shared = tmp_path / "shared-checkpoints"  # the cluster's file server
    shared.mkdir()
    config = {
        "config": {
            "experimentName": "cluster",
            "objective": "training",
            "maxTrialNum": BUDGET,
            "maxExecDuration": "1h",
            "sampler": "random",
            "heartbeat_interval": 1,
            "grace_period": 10,  # a loaded CI machine must not miss a live heartbeat
        },
        "params": DIGITS,  # also the baseline trial, enqueued now
        "search_space": {"weight_decay": {"_type": "loguniform", "_value": [1e-5, 1e-3]}},
    }
    with machines(tmp_path, ["m1", "m2", "m3", "m4"], pg_url) as (m1, m2, m3, m4):
        (m4.cwd / "space.json").write_text(json.dumps(config))
        created = m4.run(
            "create-study", "--space", "space.json", "--checkpoint-dir", str(shared),
            "--pruner", "none",
        )  # fmt: skip
        assert created.returncode == 0, created.stderr
        created_at = time.time()
        assert _status(m4, "cluster")["state"] == "not started"
        # In the queue: time passes before any worker starts; the budget's clock must not run.
        wait_for(lambda: time.time() > created_at + 3, 30, "a queue wait")
        assert _status(m4, "cluster")["time_used_s"] == 0

        workers = {m.name: m.start("worker", "--study", "cluster") for m in (m1, m2, m3)}
        try:
            wait_for(
                lambda: (
                    _saved_on(pg_url, "cluster", "m1", shared)
                    or any(w.poll() is not None for w in workers.values())
                ),
                PATIENCE,
                "m1 to save an epoch of a trial",
            )
            assert workers["m1"].poll() is None, workers["m1"].communicate()
            [killed] = _saved_on(pg_url, "cluster", "m1", shared)
            workers["m1"].kill()  # its machine is gone: SIGKILL, nothing cleaned up
            workers["m1"].wait()
            # Its state file is on the shared file server, where the retry will find it.
            [state] = shared.rglob(f"trial-{killed}/state.pt")
            saved_epoch = torch.load(state, weights_only=False)["epoch"]
            for name in ("m2", "m3"):
                _, err = workers[name].communicate(timeout=PATIENCE)
                assert workers[name].returncode == 0, err
        finally:
            for w in workers.values():
                w.kill()

        everything = trials(pg_url, "cluster")
        counted = [t for t in everything if retry_count(t) == 0]
        assert len(counted) == BUDGET  # exact: no more, no fewer, whoever ran them
        assert all(t.state.is_finished() for t in everything)
        [retry] = [t for t in everything if t.system_attrs.get(RETRY_OF) == killed]
        assert retry.state == TrialState.COMPLETE and original_number(retry) == killed
        ran_on = str(retry.user_attrs["hpo:worker"])
        assert ran_on.endswith(("/m2", "/m3")), ran_on  # another machine took it over
        assert retry.user_attrs["hpo:resumed_from_epoch"] == saved_epoch >= 1
        baseline = next(t for t in counted if t.user_attrs.get("hpo:baseline"))
        # The baseline ran to the end, unless it was the trial m1 ran when it was killed (a
        # loaded machine can give m1 the baseline first): then its retry completed, above.
        assert baseline.state == TrialState.COMPLETE or baseline.number == killed

        # The fourth machine: the workers' machines may be gone, their caches with them.
        for m in (m1, m2, m3):
            subprocess.run(["rm", "-rf", str(m.cache), str(m.home)], check=True)
        done = _status(m4, "cluster")
        assert done["state"] == "done", done
        assert 0 < float(str(done["time_used_s"])) < time.time() - created_at
        best = m4.run("best", "cluster", "--weights", "best.pt")
        assert best.returncode == 0, best.stderr
        assert (m4.cwd / "best.pt").stat().st_size > 1000
        # The killed attempt's log as far as it was shipped (every few seconds); its retry's
        # to the end, with the note that it resumed.
        assert m4.run("logs", "cluster", str(killed)).returncode == 0
        retried = m4.run("logs", "cluster", str(retry.number))
        assert "epoch 4/4" in retried.stdout, retried
        # Nothing of the finished trials is left on the file server.
        assert not [p for p in shared.rglob("*") if p.is_file()]
