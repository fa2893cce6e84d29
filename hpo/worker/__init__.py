"""Workers: pull trials from a shared study and run them, surviving whatever happens.

- ``loop``: :class:`Worker`, the ask–run–tell loop with study-wide budgets and draining;
- ``trial``: one trial: params, the objective under a heartbeat, the result recorded;
- ``reporter``: ``report(value, step)`` for a running trial, and pruning;
- ``progress``: the worker's progress lines;
- ``liveness``: heartbeats, failing dead workers' trials, retries;
- ``signals``: stopping gracefully; ``gpus``: one worker process per GPU;
- ``disk``: the trials' directories, full or unwritable (the worker says so and stops);
- ``preflight``: what this machine lacks to run a study's trials (a data set, torch);
- ``group``: one process working on every study of a comparison group.

The worker knows nothing about what a trial runs: ``hpo.objectives`` does.
"""

from __future__ import annotations

from hpo.worker.gpus import Supervisor, local_devices, parse_gpus
from hpo.worker.group import GroupWorker
from hpo.worker.liveness import BeatWatcher
from hpo.worker.loop import DEFAULT_STOP_TIMEOUT, MAX_CONSECUTIVE_FAILURES, Worker, WorkerStats
from hpo.worker.preflight import check_runnable_here

__all__ = [
    "DEFAULT_STOP_TIMEOUT",
    "MAX_CONSECUTIVE_FAILURES",
    "BeatWatcher",
    "GroupWorker",
    "Supervisor",
    "Worker",
    "WorkerStats",
    "check_runnable_here",
    "local_devices",
    "parse_gpus",
]
