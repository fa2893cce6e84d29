"""``hpo serve-storage``: Optuna's gRPC storage proxy in front of the database.

Past a few hundred workers one database runs out of connections; the proxy holds a small
pool and serves any number of workers, which then use ``--storage grpc://HOST:PORT``. On top
of Optuna's proxy, hpo keeps its study-wide budget: a refused trial travels back as
RESOURCE_EXHAUSTED and becomes :class:`~hpo.errors.BudgetExhausted` again in the worker. The
server also runs whatever the caller gives it alongside (the beat watcher that fails the
trials of gRPC workers that died: ``hpo.worker.liveness.BeatWatcher``).
"""

from __future__ import annotations

import logging
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from typing import Any

import grpc
from optuna.storages import GrpcStorageProxy
from optuna.trial import FrozenTrial

from hpo.errors import BudgetExhausted, HpoError
from hpo.optuna_compat.grpc import StorageProxyService, add_storage_service
from hpo.storage.blobs import SqlBlobStore
from hpo.storage.grpc_blobs import BlobService, GrpcBlobStore
from hpo.storage.rdb import HpoRDBStorage

log = logging.getLogger("hpo.serve")

BUDGET_MARK = "hpo: budget exhausted"


class HpoGrpcStorageProxy(GrpcStorageProxy):
    """The client side: BudgetExhausted comes back as what it is; blobs and the database's
    clock through hpo's own service on the same port (``hpo.storage.grpc_blobs``)."""

    def __init__(self, *, host: str = "localhost", port: int = 13000) -> None:
        super().__init__(host=host, port=port)
        self._blobs = GrpcBlobStore(host, port)

    def blob_store(self) -> GrpcBlobStore:
        return self._blobs

    def server_time(self) -> float:
        """Now, on the clock of the proxy's database."""
        return self._blobs.now()

    def create_new_trial(self, study_id: int, template_trial: FrozenTrial | None = None) -> int:
        try:
            return super().create_new_trial(study_id, template_trial)
        except grpc.RpcError as exc:
            if exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED:
                raise BudgetExhausted(exc.details()) from None
            raise


class HpoStorageService(StorageProxyService):
    """The server side: a refused trial becomes RESOURCE_EXHAUSTED, not an internal error."""

    def CreateNewTrial(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        try:
            return super().CreateNewTrial(request, context)
        except BudgetExhausted as exc:
            context.abort(code=grpc.StatusCode.RESOURCE_EXHAUSTED, details=f"{BUDGET_MARK}: {exc}")


def serve(
    storage: HpoRDBStorage,
    host: str,
    port: int,
    threads: int,
    alongside: AbstractContextManager[Any],
) -> None:
    """Serve until SIGTERM / Ctrl-C, with ``alongside`` entered for as long."""
    server = grpc.server(ThreadPoolExecutor(max_workers=threads))
    add_storage_service(HpoStorageService(storage), server)
    blobs = BlobService(SqlBlobStore(storage.engine), storage.database_time)
    server.add_generic_rpc_handlers((blobs.handler(),))
    try:
        bound = server.add_insecure_port(f"{host}:{port}")
    except RuntimeError:  # grpc ≥ 1.60 raises where it returned 0 ("Failed to bind to …")
        bound = 0
    if bound == 0:
        raise HpoError(
            f"cannot listen on {host}:{port} (in use, or not an address of this machine)"
        )
    stopped = threading.Event()

    def stop(signum: int, frame: object) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.start()
    with alongside:
        log.info("serving the study storage on grpc://%s:%d (%d threads)", host, bound, threads)
        stopped.wait()
        log.info("stopping")
    server.stop(grace=5).wait()
