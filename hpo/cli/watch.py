"""``--watch`` of hpo status and hpo trials: the live table, refreshed until Ctrl-C.

In a terminal the table is redrawn in place (Rich's Live). Anywhere else (a pipe, a file, a CI
log) there is no cursor to move: each refresh is printed in full, as plain aligned columns
under a line with the time, so that ``hpo status --watch | tee watch.log`` keeps a record.
Ctrl-C ends either quietly, with exit code 0: it is how a watch is meant to end.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import RenderableType

    from hpo.analysis.live_table import LiveView

WatchOption = Annotated[
    bool,
    typer.Option(
        "--watch",
        help="A live table of the running trials (epoch, latest value, seconds), refreshed "
        "in place until Ctrl-C; outside a terminal, printed in full at each refresh.",
    ),
]
IntervalOption = Annotated[
    float,
    typer.Option("--interval", min=0.2, max=3600, help="Seconds between refreshes of --watch."),
]


def watch(read: Callable[[], LiveView], interval: float) -> None:
    """Show ``read()`` every ``interval`` seconds until interrupted."""
    try:
        if sys.stdout.isatty():
            _live(read, interval)
        else:
            _plain(read, interval)
    except KeyboardInterrupt:
        return


def _live(read: Callable[[], LiveView], interval: float) -> None:
    from rich.console import Console
    from rich.live import Live

    with Live(console=Console(), auto_refresh=False) as live:
        while True:
            live.update(_rich(read()), refresh=True)
            time.sleep(interval)


def _rich(view: LiveView) -> RenderableType:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from hpo.analysis.live_table import STUDY_HEADERS, TRIAL_HEADERS

    def rich_table(headers: tuple[str, ...], rows: list[list[str]]) -> Table:
        out = Table(*headers, box=None)
        for row in rows:
            out.add_row(*(Text(cell) for cell in row))  # a name's [brackets] are not markup
        return out

    parts: list[RenderableType] = [rich_table(STUDY_HEADERS, view.studies), Text("")]
    if view.trials:
        parts += [rich_table(TRIAL_HEADERS, view.trials), Text("")]
    parts.append(Text(_stamp(f"{len(view.trials)} running")))
    return Group(*parts)


def _plain(read: Callable[[], LiveView], interval: float) -> None:
    from hpo.analysis.live_table import STUDY_HEADERS, TRIAL_HEADERS
    from hpo.text import table

    while True:
        view = read()
        parts = [f"-- {_stamp(f'{len(view.trials)} running')}", table(STUDY_HEADERS, view.studies)]
        if view.trials:
            parts.append(table(TRIAL_HEADERS, view.trials))
        typer.echo("\n\n".join(parts) + "\n")
        sys.stdout.flush()
        time.sleep(interval)


def _stamp(text: str) -> str:
    return f"{time.strftime('%H:%M:%S')}  {text}  (Ctrl-C ends the watch)"
