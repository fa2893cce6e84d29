"""The server side of Optuna's gRPC storage proxy (the client, GrpcStorageProxy, is public)."""

from __future__ import annotations

from typing import Any

from optuna.storages._grpc.auto_generated import api_pb2_grpc
from optuna.storages._grpc.servicer import OptunaStorageProxyService as StorageProxyService


def add_storage_service(service: StorageProxyService, server: Any) -> None:
    """Register a servicer (one method per storage call) with a ``grpc.server``."""
    api_pb2_grpc.add_StorageServiceServicer_to_server(service, server)  # type: ignore[no-untyped-call]


__all__ = ["StorageProxyService", "add_storage_service"]
