"""hpo's state in optuna-dashboard, as the dashboard's own notes (Markdown, through
``optuna_dashboard.save_note``, which keeps them in the study's system attributes).

The study note: where the study stands (state, budget, time used and left, trials by state,
the workers running its trials), its sampler, pruner, objective, metrics, seed and search
space. A trial note, once the trial has ended: its worker, its error, its metrics, whether its
weights are kept, and the last lines of its log (from the study's database).

``hpo dashboard`` writes them (:class:`NoteRefresher`), not the workers: a note lives in the
study's system attributes, which every save reads whole, and a worker's trial must stay cheap
in statements. A note is hpo's block, up to a ``---`` line, and what a person wrote below it,
which a refresh keeps; a trial's note is written once (the latest ``NOTED_TRIALS`` ended
trials of a study), a study's whenever it changed.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import optuna
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, TrialState
from optuna_dashboard import get_note, save_note

from hpo import attrs
from hpo import optuna_compat as compat
from hpo.optuna_compat.notes import trial_notes
from hpo.storage import blob_store, read_all
from hpo.study import budget_text, time_text
from hpo.study.logs import LOG, log_name
from hpo.study.summary import StudySummary, summaries
from hpo.text import duration

log = logging.getLogger("hpo.dashboard")

#: The first line of every note hpo writes: how a refresh tells its block from a person's text.
HEADER = "**hpo**"
TITLE = f"{HEADER} (written by `hpo dashboard`; your notes go below the line)"
#: Where hpo's block ends; a person's notes go below it.
RULE = "\n\n---\n"
#: Lines of a trial's log its note shows.
LOG_TAIL_LINES = 20
#: The latest ended trials of a study that get a note: every note is kept in the study's
#: system attributes, which each save reads whole, so a 10,000-trial study gets no 10,000.
NOTED_TRIALS = 200
#: Trial notes written per study and refresh at most (the newest first): a dashboard opened
#: on a big study catches up over a few refreshes instead of holding the database at once.
WRITES_PER_REFRESH = 50
#: Seconds between refreshes while the dashboard runs.
REFRESH_SECONDS = 15.0

_STATES = (
    TrialState.COMPLETE,
    TrialState.PRUNED,
    TrialState.FAIL,
    TrialState.RUNNING,
    TrialState.WAITING,
)


def code(value: object) -> str:
    """``value`` as inline Markdown code: a fence longer than any run of backticks in it."""
    shown = value if isinstance(value, str) else json.dumps(value, default=str)
    text = " ".join(shown.split())  # one line: a newline would end the list item
    longest = 0
    run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    return f"{fence} {text} {fence}"


def study_note(summary: StudySummary, trials: Sequence[FrozenTrial]) -> str:
    """hpo's block of a study's note (``summary.spec`` is set: an hpo study)."""
    spec = summary.spec
    assert spec is not None
    counts = ", ".join(f"{summary.counts.get(s, 0)} {s.name.lower()}" for s in _STATES)
    clock = time_text(spec, summary.clock, summary.now, summary.state or "running")
    if not clock and summary.clock.started:
        clock = f"{duration(summary.clock.elapsed(summary.now))} used, no time budget"
    running = sorted(
        {str(t.user_attrs.get(attrs.WORKER, "?")) for t in trials if t.state == TrialState.RUNNING}
    )
    workers = (
        f"{len(running)} running trials now: " + ", ".join(code(w) for w in running)
        if running
        else "none running a trial now"
    )
    lines = [
        f"- **state** {summary.state} · **budget** {budget_text(spec)}"
        + (f" ({clock})" if clock else ""),
        f"- **trials** {counts}",
        f"- **workers** {workers}",
        f"- **sampler** {code(spec.sampler.describe())}"
        f" · **pruner** {code(spec.pruner.describe())}",
        f"- **objective** {code(spec.objective.command or spec.objective.target)}"
        f" · **metrics** "
        + ", ".join(f"{code(m.name)} ({m.direction})" for m in spec.metrics)
        + f" · **seed** {spec.seed}",
        "- **search space** "
        + "; ".join(
            f"{code(name)} {_space_entry(entry)}" for name, entry in spec.search_space.items()
        ),
    ]
    if spec.params:
        lines.append("- **fixed** " + ", ".join(code(f"{k}={v}") for k, v in spec.params.items()))
    if spec.source:
        lines.append(f"- **from** {code(spec.source)}")
    return "\n".join(
        [f"{HEADER} (written by `hpo dashboard`; your notes go below the line)", *lines]
    )


def trial_note(study: str, trial: FrozenTrial, log_text: bytes | None) -> str:
    """hpo's block of an ended trial's note."""
    user = trial.user_attrs
    lines = [f"- **{trial.state.name.lower()}**, worker {code(user.get(attrs.WORKER, '?'))}"]
    if user.get(attrs.ERROR):
        lines.append(f"- **error** {code(user[attrs.ERROR])}")
    metrics = user.get(attrs.METRICS)
    if isinstance(metrics, Mapping) and metrics:
        lines.append(
            "- **metrics** " + ", ".join(f"{code(k)} {_number(v)}" for k, v in metrics.items())
        )
    if user.get(attrs.WEIGHTS):
        lines.append(f"- **weights** kept (artifact {code(user[attrs.WEIGHTS])})")
    body = [TITLE, *lines]
    if log_text:
        tail = log_text.decode("utf-8", "replace").splitlines()[-LOG_TAIL_LINES:]
        fence = "~" * max(3, 1 + max((len(x) - len(x.lstrip("~")) for x in tail), default=0))
        body += [
            "",
            f"last {len(tail)} lines of its log (`hpo logs {study} {trial.number}` has it all):",
            "",
            fence + "text",
            *tail,
            fence,
        ]
    return "\n".join(body)


def merged(existing: str, block: str) -> str:
    """``block`` in place of hpo's block of ``existing``, a person's text kept below it."""
    if existing.startswith(HEADER):
        _, rule, rest = existing.partition(RULE)
        mine = rest if rule else ""
    else:
        mine = existing
    return block + RULE + mine


def own_block(existing: str) -> str | None:
    """hpo's block of a note, None when it has none."""
    return existing.partition(RULE)[0] if existing.startswith(HEADER) else None


def refresh_notes(storage: BaseStorage) -> int:
    """Write the notes that changed, of every hpo study; returns how many were written."""
    written = 0
    blobs = blob_store(storage)
    for summary in summaries(storage):
        if summary.spec is None:
            continue  # not an hpo study (or one this hpo cannot read): nothing to say
        study = optuna.load_study(
            study_name=summary.name, storage=storage, sampler=optuna.samplers.RandomSampler()
        )
        trials = study.get_trials(deepcopy=False)
        existing = get_note(study)
        block = study_note(summary, trials)
        if own_block(existing) != block:
            save_note(study, merged(existing, block))
            written += 1
        notes = trial_notes(storage.get_study_system_attrs(compat.study_id(study)))
        ended = [t for t in trials if t.state.is_finished()][-NOTED_TRIALS:]
        due = [t for t in reversed(ended) if own_block(notes.get(compat.trial_id(t), "")) is None]
        for trial in due[:WRITES_PER_REFRESH]:
            trial_id = compat.trial_id(trial)
            text = read_all(blobs, LOG, log_name(trial_id)) if blobs else None
            body = merged(notes.get(trial_id, ""), trial_note(summary.name, trial, text))
            save_note(optuna.Trial(study, trial_id), body)
            written += 1
    return written


class NoteRefresher(threading.Thread):
    """Refreshes the notes every ``interval`` seconds until :meth:`stop`; a failed refresh
    (the database gone a moment) is logged and tried again at the next."""

    def __init__(self, storage: BaseStorage, interval: float = REFRESH_SECONDS) -> None:
        super().__init__(name="hpo-notes", daemon=True)
        self._storage = storage
        self._interval = interval
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.is_set():
            try:
                written = refresh_notes(self._storage)
                log.debug("notes refreshed: %d written", written)
            except Exception as exc:  # the dashboard goes on; the next refresh tries again
                log.warning("the dashboard's notes were not refreshed: %s", exc)
            self._stopped.wait(self._interval)

    def stop(self) -> None:
        self._stopped.set()


def _space_entry(entry: Any) -> str:
    if isinstance(entry, Mapping) and "_type" in entry:
        return f"{entry['_type']} {code(entry.get('_value'))}"
    return code(entry)


def _number(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else code(value)
