"""A database outage in the middle of a study with a trial time limit: real workers, real
PostgreSQL behind a proxy that the test cuts, real commands."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg2
import pytest
from optuna.trial import TrialState

from hpo import attrs
from tests.faults import proxy_to
from tests.helpers import counted, hpo_create_study, start_hpo, trials, wait_for
from tests.objectives.nni_trials import write_script

#: How long the database is out of reach: longer than a trial's time limit.
OUTAGE = 10.0
TIME_LIMIT = "8s"
STEPS = 5

#: About a second of work, reporting as it goes (the worker writes each result at once).
REPORTING = f"""
import time
import nni
params = nni.get_next_parameter()
for step in range(1, {STEPS} + 1):
    time.sleep(0.2)
    nni.report_intermediate_result(params["x"] * step)
nni.report_final_result(params["x"])
"""


def test_the_proxy_cuts_connections_and_refuses_new_ones_until_restored(pg_url: str) -> None:
    with proxy_to(pg_url) as proxy:
        url = proxy.url(pg_url).replace("postgresql+psycopg2", "postgresql")
        conn = psycopg2.connect(url, connect_timeout=5)
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
        proxy.cut()
        with pytest.raises(psycopg2.OperationalError), conn.cursor() as cur:
            cur.execute("SELECT 1")
        with pytest.raises(psycopg2.OperationalError, match="refused"):
            psycopg2.connect(url, connect_timeout=5)
        proxy.restore()
        again = psycopg2.connect(url, connect_timeout=5)
        with again.cursor() as cur:
            cur.execute("SELECT 1")
        again.close()
        assert proxy.connections == 2


@pytest.mark.slow
@pytest.mark.postgres
def test_an_outage_longer_than_the_time_limit_fails_no_trial_that_finished(
    tmp_path: Path, pg_url: str
) -> None:
    write_script(tmp_path, "trial.py", REPORTING)
    hpo_create_study(
        tmp_path,
        {
            "config": {
                "experimentName": "outage",
                "objective": {"command": "python3 trial.py"},
                "maxTrialNum": 30,
                "maxTrialDuration": TIME_LIMIT,
                "sampler": "random",
                "pruner": "none",
                "checkpoint_dir": "ckpt",
            },
            "search_space": {"x": {"_type": "uniform", "_value": [0, 1]}},
        },
        pg_url,
    )

    def states() -> list[TrialState]:
        return [t.state for t in trials(pg_url, "outage")]  # past the proxy

    with proxy_to(pg_url) as proxy:
        workers = [
            start_hpo("worker", "--study", "outage", storage=proxy.url(pg_url), cwd=tmp_path)
            for _ in range(3)
        ]
        try:
            # The cut lands while trials run and report: some have finished, some run.
            wait_for(
                lambda: states().count(TrialState.COMPLETE) >= 5 and TrialState.RUNNING in states(),
                300,
                "5 complete trials and one running",
            )
            proxy.cut()
            cut = states()
            time.sleep(OUTAGE)  # the outage itself, not a wait for something to happen
            proxy.restore()
            results = [w.communicate(timeout=600) for w in workers]
        finally:
            for worker in workers:
                worker.kill()
                worker.wait()
    for worker, (_, err) in zip(workers, results, strict=True):
        assert worker.returncode == 0, err
    assert any("storage unreachable" in err for _, err in results), "no worker met the outage"
    print(f"at the cut: {cut.count(TrialState.RUNNING)} running, {len(cut)} trials in all")
    everything = trials(pg_url, "outage")
    failed = {t.number: t.user_attrs.get(attrs.ERROR) for t in everything if t.state.name == "FAIL"}
    assert failed == {}
    kept = counted(everything)
    assert len(kept) == 30 and all(t.state == TrialState.COMPLETE for t in kept)
    # What they reported during the outage reached the storage too.
    for trial in kept:
        assert trial.intermediate_values == {
            step: pytest.approx(trial.params["x"] * step) for step in range(1, STEPS + 1)
        }, trial.number
