"""Every environment variable hpo reads, in one place."""

from __future__ import annotations

import os
from pathlib import Path

#: The study storage URL (``--storage`` wins). Keeps a password out of ``ps``.
STORAGE = "HPO_STORAGE"
#: Where a machine keeps hpo's caches: decoded data sets, trials' own directories.
#: The training package reads the same variable for its data-set cache.
CACHE_DIR = "HPO_CACHE_DIR"
#: Set by ``hpo worker --gpus`` for each child (``gpu0``, ``gpu1.1``): prefixes its log lines.
WORKER_LABEL = "HPO_WORKER_LABEL"
#: Directories (``os.pathsep``-separated) a worker may run study code from: a study whose
#: function module or command directory lies elsewhere is refused (``hpo worker --allow-code``).
ALLOW_CODE = "HPO_ALLOW_CODE"
#: Set by hpo for the worker processes it starts (``hpo worker --gpus``, ``hpo run
#: --workers``): the file descriptor of a pipe that holds the storage URL, so that the URL is
#: in no process's environment or command line.
STORAGE_FD = "HPO_STORAGE_FD"
#: Extra variables of the worker's that its command trials get (comma-separated names, or
#: ``PREFIX_*``): trials get only an allow list of the worker's environment otherwise.
TRIAL_ENV = "HPO_TRIAL_ENV"
#: Set by ``hpo run --detach`` for the background run it starts: a file its first worker
#: creates once it runs (the foreground command waits for it, then returns).
DETACHED = "HPO_DETACHED"


def cache_root() -> Path:
    """This machine's cache of hpo (``$HPO_CACHE_DIR``, else ``~/.cache/hpo``)."""
    return Path(os.environ.get(CACHE_DIR) or Path.home() / ".cache" / "hpo")
