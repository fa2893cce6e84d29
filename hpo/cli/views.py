"""Commands that read studies: status, trials, best, logs, compare, importance, report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from hpo.cli.app import command, log, open_storage
from hpo.cli.options import StorageOption
from hpo.cli.study_arg import (
    StudiesAlias,
    StudiesArgument,
    StudyAlias,
    StudyArgument,
    one_study,
    studies_given,
    study_and_number,
)
from hpo.cli.watch import IntervalOption, WatchOption

if TYPE_CHECKING:
    from hpo.study.summary import StudySummary


#: Half-samples of hpo importance and report at most: each refits both estimators (fANOVA's
#: forest), so a thousand take minutes already, and the intervals settle long before.
MAX_BOOTSTRAP = 1000


def _check_target(target: float | None) -> None:
    """A value to reach that trials can reach: NaN is reached by none, ±inf by all or none."""
    import math

    from hpo.errors import InvalidInputError

    if target is not None and not math.isfinite(target):
        raise InvalidInputError(f"--target must be a finite number, got {target}")


@command("status")
def status(
    storage: StorageOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    watch: WatchOption = False,
    interval: IntervalOption = 2.0,
) -> None:
    """List the studies in the storage with their trials per state and best value, and what
    this machine runs for them in the background (hpo run --detach)."""
    from optuna.trial import TrialState

    from hpo.cli.background import BACKGROUND_HEADERS, background_json, background_rows
    from hpo.errors import EmptyStorageError
    from hpo.storage import mask_url, resolve_url
    from hpo.study.summary import summaries
    from hpo.text import table

    if watch:
        from hpo.analysis.live_table import live_view
        from hpo.cli.watch import watch as watch_live

        store = open_storage(storage, create=False)
        watch_live(lambda: live_view(store), interval)
        return
    try:
        found = summaries(open_storage(storage, create=False))
    except EmptyStorageError as exc:
        # Nothing is created to answer: no file, no tables; the answer names where it looked.
        found, empty = [], str(exc)
    else:
        empty = f"no studies in {mask_url(resolve_url(storage))}"
    if as_json:
        local = background_json(resolve_url(storage))
        out = [_summary_json(s) | {"background": local.get(s.name, [])} for s in found]
        typer.echo(json.dumps(out, indent=2))
        return
    rows = []
    for s in found:
        c = s.counts
        best_text: str | None
        if s.best_value is not None:
            best_text = f"{s.best_value:.6g} (#{s.best_number})"
        else:
            best_text = f"{s.n_pareto} pareto" if s.n_pareto else None
        rows.append(
            [
                s.name,
                s.state or f"({s.kind})",
                s.spec.sampler.name if s.spec else None,
                s.spec.pruner.name if s.spec else None,
                ",".join(m.direction[:3] for m in s.spec.metrics) if s.spec else None,
                c.get(TrialState.COMPLETE, 0),
                c.get(TrialState.PRUNED, 0),
                c.get(TrialState.FAIL, 0),
                c.get(TrialState.RUNNING, 0),
                c.get(TrialState.WAITING, 0),
                _budget_cell(s),
                best_text,
            ]
        )
    if not rows:
        typer.echo(empty)
        return
    headers = ["study", "state", "sampler", "pruner", "dir", "complete", "pruned", "fail"]
    headers.append("running")
    typer.echo(table([*headers, "waiting", "budget", "best"], rows))
    if local_rows := background_rows(resolve_url(storage)):
        typer.echo("\nin the background on this machine (hpo down STUDY ends them):")
        typer.echo(table(BACKGROUND_HEADERS, local_rows))


def _budget_cell(s: StudySummary) -> str | None:
    """``20 trials / 60m (12m used, 48m left)``, ``… (not started)``, ``… (60m used)``."""
    from hpo.study import budget_text, time_text

    if s.spec is None or s.state is None:
        return None
    clock = time_text(s.spec, s.clock, s.now, s.state)
    return f"{budget_text(s.spec)} ({clock})" if clock else budget_text(s.spec)


def _summary_json(s: StudySummary) -> dict[str, object]:
    from optuna.trial import TrialState

    from hpo.study import time_left

    spec = s.spec
    return {
        "study": s.name,
        "sampler": spec.sampler.name if spec else None,
        "pruner": spec.pruner.name if spec else None,
        "metrics": {m.name: m.direction for m in spec.metrics} if spec else None,
        "trials": {state.name.lower(): s.counts.get(state, 0) for state in TrialState},
        "max_trials": spec.max_trials if spec else None,
        "max_duration_s": spec.max_duration_s if spec else None,
        "state": s.state,
        "started_at": s.started_at,
        "time_used_s": s.clock.elapsed(s.now) if spec else None,
        "time_left_s": None
        if spec is None or spec.max_duration_s is None
        else max(0.0, time_left(spec, s.clock, s.now)),
        "best_value": s.best_value,
        "best_trial": s.best_number,
        "pareto_trials": s.n_pareto,
        "stopped": s.stopped,
        "unreadable": s.unreadable,
    }


@command("trials")
def trials(
    names: StudiesArgument = None,
    output_format: Annotated[
        Literal["table", "csv", "json"], typer.Option("--format", help="table, csv or json.")
    ] = "table",
    state: Annotated[
        str | None,
        typer.Option(
            "--state",
            help="Only these states, e.g. complete,pruned [default: every state].",
            show_default=False,
        ),
    ] = None,
    sort: Annotated[
        Literal["number", "value", "seconds"],
        typer.Option("--sort", help="number, value (best first) or seconds (longest first)."),
    ] = "number",
    limit: Annotated[
        int | None,
        typer.Option("--limit", min=1, help="At most N trials [default: all].", show_default=False),
    ] = None,
    study_option: StudiesAlias = None,
    storage: StorageOption = None,
    watch: WatchOption = False,
    interval: IntervalOption = 2.0,
) -> None:
    """List every trial: state, values, params as the trial received them, epochs, pruned at,
    seconds, test accuracy and the other numbers, error, worker. --watch: the running ones,
    live."""
    names = studies_given(names, study_option)
    if watch:
        from hpo.analysis import resolve_studies
        from hpo.analysis.live_table import live_view
        from hpo.cli.watch import watch as watch_live

        store = open_storage(storage, create=False)
        resolve_studies(store, names)  # an unknown name is an error now, not an empty table
        watch_live(lambda: live_view(store, names), interval)
        return

    from hpo.analysis.trial_list import (
        add_logs,
        as_csv,
        as_json,
        as_table,
        parse_states,
        trial_records,
    )

    store = open_storage(storage, create=False)
    records = trial_records(store, names, states=parse_states(state), sort=sort, limit=limit)
    if output_format == "json":
        add_logs(store, records)  # where each log is, and its last lines
        typer.echo(as_json(records))
    elif output_format == "csv":
        typer.echo(as_csv(records), nl=False)
    elif records:
        typer.echo(as_table(records))
    else:
        from hpo.storage import mask_url, resolve_url

        which = f" in state {state}" if state else ""
        where = f"{', '.join(names)} in {mask_url(resolve_url(storage))}"
        typer.echo(f"no trials{which} of {where}")


@command("best")
def best(
    study: StudyArgument = None,
    output_format: Annotated[
        Literal["json", "dropt"],
        typer.Option(
            "--format",
            help="json: the best trial; dropt: a Dr.Opt config whose params are the best "
            "(hpo create-study reads it back, starting from them).",
        ),
    ] = "json",
    weights: Annotated[
        Path | None,
        typer.Option(
            "--weights",
            help="Also save the best trial's model weights to this file (a training "
            "checkpoint, kept in the study's artifact store).",
            show_default=False,
        ),
    ] = None,
    study_option: StudyAlias = None,
    storage: StorageOption = None,
) -> None:
    """Print the best trial as JSON: its values and params (the fixed ones and its seed
    included), the test accuracy of its best epoch, parameter count, epochs and seconds."""
    study = one_study(study, study_option)
    from hpo.analysis.trial_numbers import with_numbers
    from hpo.study import best as best_of

    store = open_storage(storage, create=False)
    out = best_of(store, study, output_format)
    if weights is not None:
        from hpo.storage import resolve_url
        from hpo.study.artifacts import download_best_weights

        first = out[0] if isinstance(out, list) else out
        trial = first["trial"] if output_format == "json" else None
        download_best_weights(store, study, resolve_url(storage), weights, trial)
        log.info("weights of the best trial saved to %s", weights)
    if output_format == "json":
        out = (
            [with_numbers(store, study, t) for t in out]
            if isinstance(out, list)
            else with_numbers(store, study, out)
        )
    typer.echo(json.dumps(out, indent=2))


@command("logs")
def logs(
    study: StudyArgument = None,
    number: Annotated[
        int | None, typer.Argument(min=0, help="Trial number.", show_default=False)
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing while the trial runs.")
    ] = False,
    study_option: StudyAlias = None,
    storage: StorageOption = None,
) -> None:
    """Print a trial's log (a command's output; a Python trial's prints and log lines), from
    the study's database, whichever machine ran it."""
    study, trial = study_and_number(study, study_option, number)
    import sys
    import time

    from hpo.storage import blob_store
    from hpo.study.logs import find_trial, follow_log, is_running, no_log_reason

    store = open_storage(storage, create=False)
    ref = find_trial(store, study, trial)
    blobs = blob_store(store)
    out = sys.stdout.buffer

    def write(data: bytes) -> None:
        out.write(data)
        out.flush()

    found = blobs is not None and follow_log(
        blobs,
        ref.trial_id,
        write,
        running=lambda: follow and is_running(store, ref.trial_id),
        wait=time.sleep,
    )
    if not found:
        log.info("%s", no_log_reason(store, ref))
    if ref.retried_as is not None:
        log.info(
            "trial %d was retried as trial %d: hpo logs %s %d",
            trial,
            ref.retried_as,
            study,
            ref.retried_as,
        )


@command("compare")
def compare(
    names: StudiesArgument = None,
    target: Annotated[
        float | None,
        typer.Option(
            "--target", help="Value to reach (e.g. 0.9 accuracy): trials and compute to it."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write best-so-far curves there (compare.png, compare.html)."),
    ] = None,
    study_option: StudiesAlias = None,
    storage: StorageOption = None,
) -> None:
    """Compare tuners: best value over repeats, trials and compute to a target, rank test."""
    names = studies_given(names, study_option)
    _check_target(target)
    from hpo.analysis import compare_studies, load_trials, render_comparison, resolve_studies

    store = open_storage(storage, create=False)
    specs = resolve_studies(store, names)
    comparison = compare_studies(specs, load_trials(store, specs), target)
    for warning in comparison.warnings:
        log.warning("%s", warning)
    if out is not None:
        from hpo.analysis.output import output_folder, writing
        from hpo.analysis.plots import write_html, write_png

        with writing(output_folder(out)):
            for written in (
                write_png(comparison, out / "compare.png"),
                write_html(comparison, out / "compare.html"),
            ):
                log.info("wrote %s", written)
    if as_json:
        typer.echo(json.dumps(comparison.to_json(), indent=2))
    else:
        typer.echo(render_comparison(comparison))


@command("importance")
def importance(
    names: StudiesArgument = None,
    bootstrap: Annotated[
        int,
        typer.Option(
            "--bootstrap",
            help="Half-samples for the intervals (0: none).",
            min=0,
            max=MAX_BOOTSTRAP,
        ),
    ] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    study_option: StudiesAlias = None,
    storage: StorageOption = None,
) -> None:
    """Parameter importance by PED-ANOVA and fANOVA, with intervals; per tuner for a group."""
    names = studies_given(names, study_option)
    from hpo.analysis import (
        importance_by_tuner,
        load_trials,
        render_importance,
        render_per_tuner,
        resolve_studies,
    )

    store = open_storage(storage, create=False)
    specs = resolve_studies(store, names)
    results = importance_by_tuner(specs, load_trials(store, specs), bootstrap=bootstrap)
    if as_json:
        typer.echo(json.dumps([r.to_json() for r in results], indent=2))
        return
    typer.echo("\n\n".join(render_importance(r) for r in results))
    if len(results) > 1:
        typer.echo("\nmost important parameter per tuner:")
        typer.echo(render_per_tuner(results))


@command("report")
def report(
    names: StudiesArgument = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for report.html and its PNGs.")] = Path(
        "hpo-report"
    ),
    target: Annotated[
        float | None, typer.Option("--target", help="Value to reach, for the comparison.")
    ] = None,
    bootstrap: Annotated[
        int,
        typer.Option(
            "--bootstrap", help="Resamples for the importance intervals.", min=0, max=MAX_BOOTSTRAP
        ),
    ] = 20,
    study_option: StudiesAlias = None,
    storage: StorageOption = None,
) -> None:
    """One self-contained HTML report: comparison, importance, curves and best params."""
    names = studies_given(names, study_option)
    _check_target(target)
    from hpo.analysis.report import write_report

    path = write_report(
        open_storage(storage, create=False), names, out, target=target, bootstrap=bootstrap
    )
    log.info("wrote %s", path)
    typer.echo(str(path))
