"""The ``hpo`` command line (Typer). Thin: a command parses its options, calls one function of
the packages below, and prints.

- ``app``: the Typer app, its one error boundary, logging, opening the storage;
- ``options``: options several commands share;
- ``studies``: validate, create-study, run, set-budget, stop, resume, delete-study;
- ``workers``: worker, serve-storage;
- ``views``: status, trials, best, logs, compare, importance, report;
- ``dashboard``: dashboard;
- ``control``: kill, enqueue (single trials);
- ``study_arg``: the study argument every command spells the same, completed in the shell.
- ``background``: down, and the foreground half of run --detach.

A new command is a function decorated with ``@command("name")`` in the module of its group.
"""

from __future__ import annotations

from hpo.cli import background, control, dashboard, studies, views, workers
from hpo.cli.app import app

__all__ = ["app", "background", "control", "dashboard", "main", "studies", "views", "workers"]


def main() -> None:
    app()
