"""Blobs and the database's clock through ``hpo serve-storage``: hpo's own gRPC service.

Optuna's gRPC proxy carries the storage API only. Workers behind it also keep weights and logs
in the study's database (``hpo.storage.blobs``) and read the database's clock, so the proxy
serves a second service, ``hpo.Blobs``, on the same port. Its messages are bytes: a JSON
header, a newline, then the payload; no generated code is needed on either side.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO, cast

import grpc

from hpo.storage.blobs import CHUNK, BlobStore

SERVICE = "hpo.Blobs"
#: Seconds a blob call may take (a 1 MiB chunk over a slow link included).
CALL_TIMEOUT = 120.0


def _pack(header: dict[str, Any], payload: bytes = b"") -> bytes:
    return json.dumps(header).encode() + b"\n" + payload


def _unpack(message: bytes) -> tuple[dict[str, Any], bytes]:
    header, _, payload = message.partition(b"\n")
    return json.loads(header), payload


def _identity(message: bytes) -> bytes:
    return message


class BlobService:
    """The server side, over the proxy's own database."""

    def __init__(self, store: BlobStore, now: Callable[[], float]) -> None:
        self._store = store
        self._now = now

    def handler(self) -> grpc.GenericRpcHandler:
        unary = {
            "Now": self._now_call,
            "Append": self._append,
            "Chunk": self._chunk,
            "Delete": self._delete,
            "DeleteStudy": self._delete_study,
        }
        handlers: dict[str, grpc.RpcMethodHandler] = {
            name: grpc.unary_unary_rpc_method_handler(
                call, request_deserializer=_identity, response_serializer=_identity
            )
            for name, call in unary.items()
        }
        handlers["Write"] = grpc.stream_unary_rpc_method_handler(
            self._write, request_deserializer=_identity, response_serializer=_identity
        )
        return grpc.method_handlers_generic_handler(SERVICE, handlers)

    def _now_call(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        return _pack({"now": self._now()})

    def _append(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        header, payload = _unpack(request)
        self._store.append(header["kind"], header["name"], payload, header.get("study_id"))
        return _pack({})

    def _chunk(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        header, _ = _unpack(request)
        found = next(self._store.chunks(header["kind"], header["name"], header["after"]), None)
        if found is None:
            return _pack({"chunk_id": None})
        return _pack({"chunk_id": found[0]}, found[1])

    def _delete(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        header, _ = _unpack(request)
        return _pack({"deleted": self._store.delete(header["kind"], header["name"])})

    def _delete_study(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        header, _ = _unpack(request)
        return _pack({"chunks": self._store.delete_study(int(header["study_id"]))})

    def _write(self, requests: Iterator[bytes], context: grpc.ServicerContext) -> bytes:
        header, first = _unpack(next(requests))
        # Spooled to disk past a few chunks: a large artifact never sits in memory whole.
        with tempfile.SpooledTemporaryFile(max_size=4 * CHUNK) as body:
            body.write(first)
            for part in requests:
                body.write(part)
            body.seek(0)
            size = self._store.write(
                header["kind"], header["name"], cast(BinaryIO, body), header.get("study_id")
            )
        return _pack({"size": size})


class GrpcBlobStore:
    """The client side: :class:`~hpo.storage.blobs.BlobStore` through the proxy."""

    def __init__(self, host: str, port: int) -> None:
        self._channel = grpc.insecure_channel(f"{host}:{port}")

    def _call(self, method: str, request: bytes) -> tuple[dict[str, Any], bytes]:
        call = self._channel.unary_unary(
            f"/{SERVICE}/{method}", request_serializer=_identity, response_deserializer=_identity
        )
        return _unpack(call(request, timeout=CALL_TIMEOUT))

    def ensure_table(self) -> None:
        return None  # the proxy makes it at its first write, as a worker would

    def now(self) -> float:
        header, _ = self._call("Now", b"")
        return float(header["now"])

    def append(self, kind: str, name: str, data: bytes, study_id: int | None) -> None:
        for start in range(0, len(data), CHUNK):
            header = {"kind": kind, "name": name, "study_id": study_id}
            self._call("Append", _pack(header, data[start : start + CHUNK]))

    def write(self, kind: str, name: str, body: BinaryIO, study_id: int | None) -> int:
        def messages() -> Iterator[bytes]:
            yield _pack({"kind": kind, "name": name, "study_id": study_id})
            while chunk := body.read(CHUNK):
                yield chunk

        call = self._channel.stream_unary(
            f"/{SERVICE}/Write", request_serializer=_identity, response_deserializer=_identity
        )
        header, _ = _unpack(call(messages(), timeout=CALL_TIMEOUT))
        return int(header["size"])

    def chunks(self, kind: str, name: str, after: int = 0) -> Iterator[tuple[int, bytes]]:
        while True:
            header, data = self._call("Chunk", _pack({"kind": kind, "name": name, "after": after}))
            if header["chunk_id"] is None:
                return
            after = int(header["chunk_id"])
            yield after, data

    def delete(self, kind: str, name: str) -> bool:
        header, _ = self._call("Delete", _pack({"kind": kind, "name": name}))
        return bool(header["deleted"])

    def delete_study(self, study_id: int) -> int:
        header, _ = self._call("DeleteStudy", _pack({"study_id": study_id}))
        return int(header["chunks"])
