"""Per-trial bookkeeping of ``hpo worker`` against plain Optuna, side by side.

Both run the same no-op objective (4 parameters, 5 reported epochs, no work) on the same
PostgreSQL server with the same sampler and no pruner, N worker processes sharing one study
of T trials:

  plain  optuna.load_study(...).optimize(objective) in each process, the budget enforced by
         Optuna's MaxTrialsCallback (which, unlike hpo's, may run over by a few trials);
  hpo    hpo's Worker (what ``hpo worker`` runs) on a study made by hpo's create-study.

Each process imports everything first and starts its loop at a common moment, so process
start-up is not counted. For every N the table gives wall-clock ms per trial (the study's
throughput), worker-ms per trial (wall × N / T: what one trial costs one worker) and the ratio
hpo / plain; the last line is the headline. ``--profile`` prints where one hpo worker spends
its time (cProfile, cumulative). Every process also counts the SQL statements it sends while
its loop runs (SQLAlchemy's ``before_cursor_execute``, background threads included): the table
gives them per trial made, the load each trial puts on the shared database.

    python bench/overhead.py [--trials 1000] [--workers 1,4,16] [--sampler random|tpe]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_SERVER = os.environ.get("HPO_BENCH_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
SPACE = {
    "lr": {"_type": "loguniform", "_value": [1e-5, 1e-1]},
    "momentum": {"_type": "uniform", "_value": [0.0, 0.99]},
    "batch_size": {"_type": "choice", "_value": [16, 32, 64, 128]},
    "layers": {"_type": "randint", "_value": [1, 9]},
}
EPOCHS = 5
#: Seconds of (simulated) training per trial; 0 for the no-op comparison. Set by --trial-seconds.
TRIAL_SECONDS = float(os.environ.get("HPO_BENCH_TRIAL_SECONDS", "0"))


def objective_hpo(params: dict[str, Any], report: Callable[[float, int], None]) -> float:
    """The no-op objective as an hpo trial function: 5 reports, a result."""
    for epoch in range(1, EPOCHS + 1):
        if TRIAL_SECONDS:
            time.sleep(TRIAL_SECONDS / EPOCHS)  # an epoch on the GPU: the CPU is free meanwhile
        report(params["momentum"] * epoch / EPOCHS, epoch)
    return float(params["momentum"])


def objective_plain(trial: Any) -> float:
    """The same objective written the plain Optuna way (suggest, report, should_prune)."""
    import optuna

    trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    momentum = trial.suggest_float("momentum", 0.0, 0.99)
    trial.suggest_categorical("batch_size", [16, 32, 64, 128])
    trial.suggest_int("layers", 1, 8)
    for epoch in range(1, EPOCHS + 1):
        trial.report(momentum * epoch / EPOCHS, epoch)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return float(momentum)


# -- one worker process ----------------------------------------------------------------------


def run_worker(
    mode: str, url: str, study: str, trials: int, sampler: str, start_at: float, profile: bool
) -> None:
    import logging

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("hpo").setLevel(logging.WARNING)
    loop: Any
    if mode == "hpo":
        from hpo.objectives import Attempt, Objective, Outcome, outcome_of
        from hpo.storage import open_storage
        from hpo.worker import Worker

        class NoOp(Objective):
            """The same function in both modes, as an hpo objective."""

            def run(self, params: dict[str, Any], attempt: Attempt) -> Outcome:
                return outcome_of(objective_hpo(params, attempt.report), self.metrics)

        worker = Worker(open_storage(url), study)
        worker.objective = NoOp(worker.spec.metrics)
        loop = worker.run
        finished: list[float] = []  # when each of this worker's trials was recorded
        step = worker.step

        def timed_step(*, drain: bool = True) -> str:
            ran = worker.stats.ran
            reason = step(drain=drain)
            if worker.stats.ran > ran:
                finished.append(time.time())
            return reason

        worker.step = timed_step  # type: ignore[method-assign]
    else:
        from optuna.study import MaxTrialsCallback

        samplers = {"random": optuna.samplers.RandomSampler, "tpe": optuna.samplers.TPESampler}
        plain_sampler = samplers[sampler](seed=secrets.randbelow(2**31))
        loaded = optuna.load_study(
            study_name=study, storage=url, sampler=plain_sampler, pruner=optuna.pruners.NopPruner()
        )

        def loop() -> None:
            loaded.optimize(objective_plain, callbacks=[MaxTrialsCallback(trials, states=None)])

    statements = count_statements()
    time.sleep(max(0.0, start_at - time.time()))
    statements.clear()  # what the loading sent is not per trial
    started = time.time()
    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(loop)
        stats = pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative")
        stats.print_stats(40)
        stats.print_callees(r"study.py:\d+\((ask|tell)\)")
    else:
        loop()
    span = {"start": started, "end": time.time(), "statements": len(statements)}
    if mode == "hpo":
        span |= {"trials": len(finished), "last_finish": finished[-1] if finished else started}
    print(json.dumps(span))


def count_statements() -> list[None]:
    """A list that grows by one for every SQL statement any engine of this process sends."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    sent: list[None] = []

    @event.listens_for(Engine, "before_cursor_execute")
    def _sent(*_: Any) -> None:
        sent.append(None)

    return sent


# -- the comparison ----------------------------------------------------------------------------


def admin(sql: str) -> None:
    import psycopg2
    from sqlalchemy.engine import make_url

    u = make_url(PG_SERVER)
    conn = psycopg2.connect(
        host=u.host,
        port=u.port or 5432,
        user=u.username,
        password=u.password,
        dbname=u.database or "postgres",
    )
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql)
    conn.close()


def database_url(name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)


def create(mode: str, url: str, study: str, trials: int, sampler: str) -> None:
    import optuna

    if mode == "hpo":
        from hpo.storage import open_storage
        from hpo.study import Overrides, build_spec, create_study, parse_config

        config = {"config": {"experimentName": study, "maxTrialNum": trials}, "search_space": SPACE}
        spec, _ = build_spec(
            parse_config(config), Overrides(objective="math:sqrt", sampler=sampler, pruner="none")
        )
        create_study(open_storage(url), spec)
    else:
        optuna.create_study(study_name=study, storage=url, direction="maximize")


def measure(
    mode: str, workers: int, trials: int, sampler: str, profile: bool = False
) -> tuple[float, int, float]:
    """Seconds of the run, the number of trials it created and SQL statements per trial."""
    spans, created = run_processes(mode, workers, trials, sampler, profile)
    seconds = max(s["end"] for s in spans) - min(s["start"] for s in spans)
    return seconds, created, sum(s["statements"] for s in spans) / max(created, 1)


def run_processes(
    mode: str, workers: int, trials: int, sampler: str, profile: bool = False
) -> tuple[list[dict[str, float]], int]:
    """The spans each worker process reported, and the number of trials created."""
    import optuna

    name = f"hpo_bench_{secrets.token_hex(4)}"
    admin(f'CREATE DATABASE "{name}"')
    url = database_url(name)
    try:
        create(mode, url, "bench", trials, sampler)
        start_at = time.time() + 4.0 + 0.25 * workers  # after every process has imported
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--worker",
                    mode,
                    "--url",
                    url,
                    "--study",
                    "bench",
                    "--trials",
                    str(trials),
                    "--sampler",
                    sampler,
                    "--start-at",
                    str(start_at),
                ]
                + (["--profile"] if profile else []),
                stdout=subprocess.PIPE,
                env=env,
            )
            for _ in range(workers)
        ]
        spans = []
        for p in procs:
            out, _ = p.communicate()
            if p.returncode != 0:
                sys.exit(f"error: a {mode} worker failed (exit {p.returncode})")
            spans.append(json.loads(out.decode().strip().splitlines()[-1]))
        created = len(optuna.load_study(study_name="bench", storage=url).trials)
        return spans, created
    finally:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def long_trials(args: argparse.Namespace) -> None:
    """Bookkeeping per trial when trials take seconds: the trial cycle minus the trial."""
    os.environ["HPO_BENCH_TRIAL_SECONDS"] = str(args.trial_seconds)
    print(
        f"hpo workers, trials of {args.trial_seconds:g} s (5 epochs asleep), {args.trials} trials"
    )
    header = ("workers", "s per trial cycle", "bookkeeping ms/trial", "share of a trial")
    print("{:>7} {:>18} {:>21} {:>17}".format(*header))
    for n in [int(w) for w in args.workers.split(",")]:
        spans, _ = run_processes("hpo", n, args.trials, args.sampler)
        # Each worker, from its start to its last recorded trial (not the wait at the end).
        cycles = [(s["last_finish"] - s["start"]) / s["trials"] for s in spans if s["trials"]]
        cycle = sum(cycles) / len(cycles)
        overhead = cycle - args.trial_seconds
        print(
            f"{n:>7} {cycle:>18.3f} {1000 * overhead:>21.1f} {overhead / args.trial_seconds:>16.2%}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--workers", default="1,4,16")
    parser.add_argument("--sampler", default="random", choices=["random", "tpe"])
    parser.add_argument("--profile", action="store_true", help="profile one hpo worker instead")
    parser.add_argument(
        "--trial-seconds",
        type=float,
        default=0.0,
        help="instead: hpo workers whose trials take this long (asleep, like a GPU epoch); prints "
        "the bookkeeping per trial as a share of it",
    )
    parser.add_argument("--worker", choices=["hpo", "plain"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--study", help=argparse.SUPPRESS)
    parser.add_argument("--start-at", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        run_worker(
            args.worker,
            args.url,
            args.study,
            args.trials,
            args.sampler,
            args.start_at,
            args.profile,
        )
        return
    if args.profile:
        measure("hpo", 1, args.trials, args.sampler, profile=True)
        return
    if args.trial_seconds:
        long_trials(args)
        return

    import platform

    counts = [int(n) for n in args.workers.split(",")]
    server = PG_SERVER.split("@")[-1]
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs; PostgreSQL at {server}")
    print(
        f"{args.trials} trials, sampler {args.sampler}, no pruner, 4 params, {EPOCHS} reports each"
    )
    header = (
        "workers",
        "plain ms/trial",
        "hpo ms/trial",
        "plain worker-ms",
        "hpo worker-ms",
        "hpo/plain",
        "trials made",
        "SQL/trial (plain / hpo)",
    )
    print("{:>7} {:>14} {:>12} {:>15} {:>13} {:>9} {:>12} {:>23}".format(*header))
    ratios = []
    for n in counts:
        # Alternate the order, so that drift on a noisy machine does not favour one side.
        first, second = ("plain", "hpo") if n % 2 else ("hpo", "plain")
        results = {first: measure(first, n, args.trials, args.sampler)}
        results[second] = measure(second, n, args.trials, args.sampler)
        (plain_s, plain_n, plain_sql), (hpo_s, hpo_n, hpo_sql) = results["plain"], results["hpo"]
        plain_ms, hpo_ms = 1000 * plain_s / args.trials, 1000 * hpo_s / args.trials
        ratios.append(hpo_ms / plain_ms)
        print(
            f"{n:>7} {plain_ms:>14.1f} {hpo_ms:>12.1f} {plain_ms * n:>15.1f} {hpo_ms * n:>13.1f} "
            f"{hpo_ms / plain_ms:>9.2f} {f'{plain_n} / {hpo_n}':>12} "
            f"{f'{plain_sql:.1f} / {hpo_sql:.1f}':>23}"
        )
    summary = ", ".join(f"{n} workers {r:.2f}" for n, r in zip(counts, ratios, strict=True))
    print(f"hpo/plain ms per trial: {summary}")


if __name__ == "__main__":
    main()
