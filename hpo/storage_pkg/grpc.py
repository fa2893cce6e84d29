"""``hpo serve-storage``: Optuna's gRPC storage proxy in front of the database.

Past a few hundred workers one database runs out of connections; the proxy holds a small
pool and serves any number of workers, which then use ``--storage grpc://HOST:PORT``. On top
of Optuna's proxy, hpo keeps its study-wide budget (a refused trial travels back as
RESOURCE_EXHAUSTED and becomes BudgetExhausted again in the worker) and its liveness: the
server fails the trials whose ``hpo:beat`` stops moving (:class:`hpo.liveness.BeatWatcher`).
"""

from __future__ import annotations

import logging
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from optuna.storages._grpc.client import GrpcStorageProxy

from hpo.errors import BudgetExhausted

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

    from hpo.storage import HpoRDBStorage

log = logging.getLogger("hpo.serve")

BUDGET_MARK = "hpo: budget exhausted"


class HpoGrpcStorageProxy(GrpcStorageProxy):
    """The client side: BudgetExhausted comes back as what it is."""

    def create_new_trial(self, study_id: int, template_trial: FrozenTrial | None = None) -> int:
        import grpc

        try:
            return super().create_new_trial(study_id, template_trial)
        except grpc.RpcError as exc:
            if exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED:
                raise BudgetExhausted(exc.details()) from None
            raise


def _servicer(storage: HpoRDBStorage) -> Any:
    import grpc
    from optuna.storages._grpc.servicer import OptunaStorageProxyService

    class HpoStorageService(OptunaStorageProxyService):
        def CreateNewTrial(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
            try:
                return super().CreateNewTrial(request, context)
            except BudgetExhausted as exc:
                context.abort(
                    code=grpc.StatusCode.RESOURCE_EXHAUSTED, details=f"{BUDGET_MARK}: {exc}"
                )

    return HpoStorageService(storage)


def serve(storage: HpoRDBStorage, host: str, port: int, threads: int = 16) -> None:
    """Serve until SIGTERM / Ctrl-C."""
    import grpc
    from optuna.storages._grpc.auto_generated import api_pb2_grpc

    from hpo.liveness import BeatWatcher

    server = grpc.server(ThreadPoolExecutor(max_workers=threads))
    api_pb2_grpc.add_StorageServiceServicer_to_server(_servicer(storage), server)  # type: ignore[no-untyped-call]
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        from hpo.errors import HpoError

        raise HpoError(
            f"cannot listen on {host}:{port} (in use, or not an address of this machine)"
        )
    watcher = BeatWatcher(storage)
    stopped = threading.Event()

    def stop(signum: int, frame: object) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.start()
    with watcher:
        log.info("serving the study storage on grpc://%s:%d (%d threads)", host, bound, threads)
        stopped.wait()
        log.info("stopping")
    server.stop(grace=5).wait()
