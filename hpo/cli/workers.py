"""Commands that run trials or serve the storage to workers: worker, serve-storage."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from hpo import env
from hpo.cli.app import command, log, open_storage
from hpo.cli.options import LOOPBACK, MAX_PORT, StorageOption, check_can_listen
from hpo.cli.study_arg import StudyAlias, StudyArgument, chosen_study

#: Seconds a starting worker keeps trying to reach a database that drops its connections.
WORKER_CONNECT_PATIENCE = 30.0
#: The longest --stop-timeout: a day. Schedulers give 30 to 60 s before SIGKILL, and Python's
#: timers overflow on the infinite or astronomical values the option took before.
MAX_STOP_TIMEOUT = 86400.0
#: The most threads of hpo serve-storage: each may hold one of half as many database
#: connections, and 64 connections are most of PostgreSQL's default 100.
MAX_THREADS = 128


@command("worker")
def worker(
    study: StudyArgument = None,
    study_option: StudyAlias = None,
    group: Annotated[
        str | None,
        typer.Option(
            "--group", help="Work on every study of a comparison group, evenly.", show_default=False
        ),
    ] = None,
    storage: StorageOption = None,
    n_trials: Annotated[
        int | None,
        typer.Option(
            "--n-trials",
            min=0,
            help="Stop this process after N trials (the study's budget still applies).",
            show_default=False,
        ),
    ] = None,
    gpus: Annotated[
        str | None,
        typer.Option(
            "--gpus",
            help="all, or GPU indices like 0,1: one worker process per GPU "
            "(CUDA_VISIBLE_DEVICES set for each), restarted if it dies.",
            show_default=False,
        ),
    ] = None,
    trials_per_gpu: Annotated[
        int,
        typer.Option(
            "--trials-per-gpu",
            min=1,
            help="With --gpus: worker processes per GPU (at most 64 processes in all).",
        ),
    ] = 1,
    allow_code: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-code",
            envvar="HPO_ALLOW_CODE",
            help="Run only studies whose function module or command directory lies in DIR "
            "(repeatable) [default: any; the built-in objective always].",
            show_default=False,
        ),
    ] = None,
    stop_timeout: Annotated[
        float,
        typer.Option(
            "--stop-timeout",
            min=0,
            max=MAX_STOP_TIMEOUT,
            help="On SIGTERM / Ctrl-C, seconds to let the current epoch finish before "
            "interrupting it (the trial is retried either way).",
        ),
    ] = 20.0,
) -> None:
    """Run trials of a study until its budget is spent (one per GPU, on any machine)."""
    from hpo.errors import InvalidInputError
    from hpo.storage import resolve_url
    from hpo.storage.credentials import protect_process
    from hpo.study.bounds import check_local_workers
    from hpo.worker import GroupWorker, Supervisor, Worker, parse_gpus

    # Before anything runs: the trials must not find the storage URL in this process.
    protect_process(storage)
    study = chosen_study(study, study_option, required=False)
    if (study is None) == (group is None):
        raise InvalidInputError("give the study (hpo worker NAME, or --study NAME) or --group NAME")
    if allow_code:
        # Through the environment: the worker checks it, and children of --gpus inherit it.
        os.environ[env.ALLOW_CODE] = os.pathsep.join(
            d for item in allow_code for d in item.split(os.pathsep) if d
        )
    if gpus is not None:
        check_local_workers(trials_per_gpu, "--trials-per-gpu")
        devices = parse_gpus(gpus)
        check_local_workers(len(devices) * trials_per_gpu, "--gpus × --trials-per-gpu")
        target = ["--study", study] if study is not None else ["--group", str(group)]
        args = ["worker", *target, "--stop-timeout", str(stop_timeout)]
        if n_trials is not None:
            args += ["--n-trials", str(n_trials)]
        supervisor = Supervisor(args, devices, trials_per_gpu, resolve_url(storage))
        raise typer.Exit(supervisor.run())
    # A worker may start while the database restarts: it waits a little for it.
    store = open_storage(storage, patience=WORKER_CONNECT_PATIENCE, create=False)
    runner: GroupWorker | Worker
    if group is not None:
        runner = GroupWorker(store, group, n_trials=n_trials, stop_timeout=stop_timeout)
    else:
        assert study is not None
        runner = Worker(store, study, n_trials=n_trials, stop_timeout=stop_timeout)
    runner.run()
    # Stopped now (a second signal): its trial is queued again, and the exit code says how.
    raise typer.Exit(runner.stop.exit_code)


@command("serve-storage")
def serve_storage(
    storage: StorageOption = None,
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="Address to listen on; 0.0.0.0 exposes it to the network, with no login.",
        ),
    ] = "127.0.0.1",
    port: Annotated[
        int,
        typer.Option("--port", min=0, max=MAX_PORT, help="Port to listen on (0: any free one)."),
    ] = 13000,
    threads: Annotated[
        int, typer.Option("--threads", min=1, max=MAX_THREADS, help="Requests served at once.")
    ] = 16,
) -> None:
    """Serve the storage over gRPC for many workers (they use --storage grpc://HOST:PORT)."""
    from hpo.storage import resolve_url
    from hpo.storage.existing import refuse_in_memory
    from hpo.storage.grpc import serve
    from hpo.worker import BeatWatcher

    # Its clients create studies through it: not in a database that is gone when it stops.
    refuse_in_memory(resolve_url(storage))
    check_can_listen(host, port)
    if host not in LOOPBACK:
        log.warning(
            "the storage proxy has no login: anyone who reaches %s:%d can read and change "
            "every study, including the code its workers run",
            host,
            port,
        )
    store = open_storage(storage, pool_size=max(1, threads // 2))
    serve(store, host, port, threads, alongside=BeatWatcher(store))
