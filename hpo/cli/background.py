"""Background runs on this machine: ``hpo run --detach`` (its foreground half), ``hpo down``,
and what ``hpo status`` lists of them.

The processes and their registry are ``hpo.worker.detach`` and ``hpo.worker.local_runs``;
this module starts, waits, and says what happened, how to follow the run and how to end it.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Annotated

import typer

from hpo.cli.app import command, log
from hpo.cli.options import StorageOption

if TYPE_CHECKING:
    from hpo.worker.local_runs import LocalRun

#: Seconds a detached run may take to start its first worker (loading torch and a data set
#: on a busy machine takes a while) and its dashboard to listen.
START_PATIENCE = 300.0
#: The dashboard of a detached run listens here only: it has no login (ssh -L reaches it).
DASHBOARD_HOST = "127.0.0.1"
#: ``hpo down``'s default: a worker lets its epoch run up to 20 s after SIGTERM, then cleans up.
DOWN_TIMEOUT = 60.0


def go_background(study: str, storage: str | None, dashboard_port: int | None) -> None:
    """``hpo run --detach``: start this same ``hpo run`` in the background and return here
    only in that background process; the foreground one exits once its workers run (0), or
    when they could not start (1, the reason from their log)."""
    from hpo.cli.options import check_can_listen
    from hpo.storage import resolve_url
    from hpo.worker.detach import is_background_half

    if is_background_half():
        return  # this is the background run: go on and run the workers
    url = resolve_url(storage)
    if dashboard_port is not None:
        check_can_listen(DASHBOARD_HOST, dashboard_port)
    _warn_if_running(study, url)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    dashboard = (
        None if dashboard_port is None else _start_dashboard(study, url, dashboard_port, stamp)
    )
    try:
        workers = _start_workers(study, url, stamp)
    except BaseException:
        if dashboard is not None:
            from hpo.worker.detach import end_runs
            from hpo.worker.local_runs import forget

            end_runs([dashboard], DOWN_TIMEOUT)
            forget(dashboard)
        raise
    lines = [
        (f"study {study!r} runs in the background on this machine (pid {workers.pid})", ""),
        ("log", workers.log),
    ]
    if dashboard is not None:
        lines.append(("dashboard", f"{dashboard.url}  (log {dashboard.log})"))
    lines += [
        ("follow it", f"hpo status --watch, hpo trials {study} --watch"),
        (
            "end it",
            f"hpo down {study}  (this machine's workers and dashboard; cut trials are retried)",
        ),
        ("pause it", f"hpo stop {study}  (every worker, on any machine, after its current trial)"),
    ]
    typer.echo(lines[0][0])
    for what, text in lines[1:]:
        typer.echo(f"  {what + ':':<11}{text}")
    raise typer.Exit(0)


def _warn_if_running(study: str, url: str) -> None:
    from hpo.worker.local_runs import local_runs

    running = [r.pid for r in local_runs(url, study) if r.role == "workers"]
    if running:
        log.warning(
            "study %r already runs in the background here (pid %s): this adds more workers",
            study,
            ", ".join(map(str, running)),
        )


def _start_workers(study: str, url: str, stamp: str) -> LocalRun:
    from hpo import env
    from hpo.errors import HpoError
    from hpo.worker.detach import first_error, spawn, wait_ready, without_storage
    from hpo.worker.local_runs import forget, register, study_folder

    if "--detach" not in sys.argv:  # run from Python (a test's CliRunner): no command to repeat
        raise HpoError("hpo run --detach starts the hpo command again: run it from a shell")
    folder = study_folder(study)
    log_file = folder / f"{stamp}-workers.log"
    ready = folder / f".{stamp}-workers.ready"
    ready.unlink(missing_ok=True)
    # The same command line (options, paths relative to the same directory), whose run
    # finds the study created and goes on to its workers (go_background returns there).
    process = spawn(without_storage(sys.argv[1:]), log_file, url, {env.DETACHED: str(ready)})
    entry = register(study, url, "workers", process.pid, log_file)
    try:
        code = wait_ready(process, ready, log_file, START_PATIENCE)
    finally:
        ready.unlink(missing_ok=True)
    if code is not None:
        if entry is not None:
            forget(entry)
        reason = first_error(log_file) or f"it exited with code {code}"
        raise HpoError(f"the workers of study {study!r} did not start: {reason} (log {log_file})")
    if entry is None:  # it ran and ended already (a budget spent at once): it ran, though
        raise HpoError(f"the workers of study {study!r} ended at once: see {log_file}")
    return entry


def _start_dashboard(study: str, url: str, port: int, stamp: str) -> LocalRun:
    from hpo.errors import HpoError
    from hpo.worker.detach import first_error, spawn, wait_listening
    from hpo.worker.local_runs import forget, register, study_folder

    log_file = study_folder(study) / f"{stamp}-dashboard.log"
    args = ["dashboard", "--host", DASHBOARD_HOST, "--port", str(port)]
    process = spawn(args, log_file, url)
    address = f"http://{DASHBOARD_HOST}:{port}"
    entry = register(study, url, "dashboard", process.pid, log_file, address)
    code = wait_listening(process, DASHBOARD_HOST, port, log_file, START_PATIENCE)
    if code is not None or entry is None:
        if entry is not None:
            forget(entry)
        reason = first_error(log_file) or f"it exited with code {code}"
        raise HpoError(f"the dashboard did not start: {reason} (log {log_file})")
    return entry


@command("down")
def down(
    study: Annotated[str, typer.Argument(help="Study name.")],
    storage: StorageOption = None,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            min=0,
            max=86400,
            help="Seconds to let the workers finish their epoch before killing what is left.",
        ),
    ] = DOWN_TIMEOUT,
) -> None:
    """End what this machine runs in the background for a study (hpo run --detach): its
    workers stop after their epoch (the trial is retried later), its dashboard ends. The
    study stays as it is: hpo stop pauses it for every worker, everywhere."""
    from hpo.storage import mask_url, resolve_url
    from hpo.worker.detach import end_runs
    from hpo.worker.local_runs import forget, local_runs

    url = resolve_url(storage)
    runs = local_runs(url, study)
    if not runs:
        log.info(
            "nothing of study %r runs in the background on this machine (storage %s)",
            study,
            mask_url(url),
        )
        return
    clean = end_runs(runs, timeout)
    for run in runs:
        forget(run)
    ended = ", ".join(f"{r.role} (pid {r.pid})" for r in runs)
    how = "" if clean else f"; what still ran after {timeout:.0f}s was killed"
    log.info("ended the background run of study %r on this machine: %s%s", study, ended, how)


def background_rows(url: str) -> list[list[object]]:
    """``hpo status``: what this machine runs in the background for the storage's studies."""
    from hpo.worker.local_runs import local_runs

    return [
        [
            r.study,
            r.role,
            r.pid,
            time.strftime("%Y-%m-%d %H:%M", time.localtime(r.since)),
            f"{r.url}  (log {r.log})" if r.url else r.log,
        ]
        for r in local_runs(url)
    ]


BACKGROUND_HEADERS = ["study", "process", "pid", "since", "log / address"]


def background_json(url: str) -> dict[str, list[dict[str, object]]]:
    """Per study: its background processes on this machine, for ``hpo status --json``."""
    from hpo.worker.local_runs import local_runs

    out: dict[str, list[dict[str, object]]] = {}
    for r in local_runs(url):
        out.setdefault(r.study, []).append(
            {"process": r.role, "pid": r.pid, "since": r.since, "log": r.log, "url": r.url}
        )
    return out
