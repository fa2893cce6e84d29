"""hpo dashboard: optuna-dashboard on the study storage, with hpo's state in its notes."""

from __future__ import annotations

from typing import Annotated

import typer

from hpo.cli.app import command, log, open_storage
from hpo.cli.options import StorageOption


@command("dashboard")
def dashboard(
    host: Annotated[
        str,
        typer.Option("--host", help="Address to listen on; 0.0.0.0 exposes it to the network."),
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")
    ] = 8080,
    notes_every: Annotated[
        float,
        typer.Option(
            "--notes-every",
            min=0,
            max=86400,
            help="Seconds between refreshes of hpo's notes (study: budget, time, workers; "
            "trial: error, log tail, weights); 0: write none.",
        ),
    ] = 15.0,
    storage: StorageOption = None,
) -> None:
    """Start optuna-dashboard on the study storage (every study, groups included), with
    hpo's state in its notes."""
    import optuna_dashboard

    from hpo.analysis.dashboard_notes import NoteRefresher
    from hpo.cli.options import check_can_listen
    from hpo.errors import HpoError
    from hpo.storage import mask_url, resolve_url
    from hpo.study.artifacts import dashboard_artifact_store

    store = open_storage(storage, create=False)
    check_can_listen(host, port)  # one line, before the server prints its banner
    # The trials' weights: in the study's database, or where older studies kept them.
    artifacts = dashboard_artifact_store(store, resolve_url(storage))
    if host not in ("127.0.0.1", "localhost", "::1"):
        log.warning(
            "the dashboard has no login: anyone who reaches %s:%d sees the studies", host, port
        )
    log.info(
        "optuna-dashboard on http://%s:%d for %s (Ctrl-C stops it)",
        host,
        port,
        mask_url(resolve_url(storage)),
    )
    # hpo's state (budget, workers, errors, log tails) as the dashboard's own notes.
    notes = NoteRefresher(open_storage(storage, create=False), notes_every)
    if notes_every > 0:
        notes.start()
    try:
        optuna_dashboard.run_server(store, host=host, port=port, artifact_store=artifacts)
    except OSError as exc:
        raise HpoError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    finally:
        notes.stop()
