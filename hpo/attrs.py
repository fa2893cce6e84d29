"""Every attribute name hpo stores in a study or a trial, in one place.

Optuna keeps free-form attributes per study and per trial; hpo's live under the ``hpo:``
namespace (as optuna-dashboard's under ``dashboard:``), so that plain Optuna, the dashboard and
other tools see them and never collide with them. Renaming one breaks the studies already
stored: add a new name and keep reading the old one instead.
"""

from __future__ import annotations

# -- study user attributes -------------------------------------------------------------------

#: The study spec as JSON (``hpo.study.StudySpec``): everything a worker needs.
SPEC = "hpo:spec"
#: True while the study is stopped (``hpo stop``); workers finish their trial and exit.
STOPPED = "hpo:stopped"

# -- study system attributes -----------------------------------------------------------------

#: The time budget's clock: ``{"used": seconds, "since": storage time or null}``; it runs from
#: the first worker's first trial and pauses while the study is stopped (``hpo.study.clock``).
CLOCK = "hpo:clock"
#: Written by hpo before the pausing clock: when the study's first worker started (seconds
#: since the epoch). Read, never written, for the studies that have it.
STARTED_AT = "hpo:started_at"
#: How many workers have registered with the study: the next one's index.
WORKER_COUNTER = "hpo:workers"

# -- trial user attributes -------------------------------------------------------------------

#: Marks the Dr.Opt baseline trial (the config's ``params``), enqueued once per study.
BASELINE = "hpo:baseline"
#: Why a trial failed or was pruned, in one line.
ERROR = "hpo:error"
#: The end of the traceback of a trial that raised.
TRACEBACK = "hpo:traceback"
#: Numbers the objective returned besides the objective values (test accuracy, parameters…).
METRICS = "hpo:metrics"
#: Each of those numbers again as an attribute of its own (``metric:test_acc``), which
#: optuna-dashboard shows as a column it can sort by; ``hpo:metrics`` stays, read by hpo.
METRIC_PREFIX = "metric:"
#: The worker that ran the trial: ``host`` or ``host/label`` (``hpo worker --gpus``: gpu0, …).
WORKER = "hpo:worker"
#: The id of the trial's best weights in the study's artifact store (its best trials only).
WEIGHTS = "hpo:weights"
#: The seed the trial trained with (the same for every attempt of a retried trial).
SEED = "hpo:seed"
#: A command trial's log file (its stdout and stderr), on the machine that ran it.
LOG = "hpo:log"
#: The other numbers a command trial reported with its intermediate results, by step.
STEP_METRICS = "hpo:step_metrics"
#: The epoch a retried trial resumed its training from.
RESUMED_FROM_EPOCH = "hpo:resumed_from_epoch"
#: Marks a trial queued by hand with ``hpo enqueue`` (its params chosen, not sampled).
ENQUEUED = "hpo:enqueued"

# -- trial system attributes -----------------------------------------------------------------

#: A heartbeat counter, for workers that reach the storage through ``hpo serve-storage``.
BEAT = "hpo:beat"
#: ``hpo kill``: ``{"state": "pruned" | "fail", "reason": text}`` on a running trial; its
#: worker ends the trial so (``hpo.worker.kill``), and no retry of it is ever queued.
KILL = "hpo:kill"
