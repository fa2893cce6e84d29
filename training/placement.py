"""Where a decoded data set lives while a run trains on it, chosen by its size.

- ``device``: copied whole to the accelerator once per process; batches are gathered there
  (no host work per step, no host sync). Chosen when the set is at most
  ``gpu_data_fraction`` of the GPU's memory.
- ``host``: stays in host memory: as decoded, or, where its cache file existed already,
  that file memory-mapped (the page cache holds it, once for all of a machine's workers, and
  a first epoch may read from disk). On a GPU each batch is gathered on the host into a pinned
  buffer and copied with ``non_blocking``. The set itself is not pinned: the gather runs on
  the CPU either way, so pinning it whole would only lock unswappable memory; the pinned
  buffer is what lets the copy run asynchronously. Chosen when the set is too large for
  the GPU but at most ``host_data_fraction`` of the host's memory (its cgroup's limit where lower).
- ``stream``: never held whole in memory. Decoded into a file-backed buffer, written to the
  cache file, and read back memory-mapped: batches are read from the file as they are
  drawn (the operating system keeps what fits in its page cache). Chosen when the set is
  larger than that share of host memory.

``data_placement`` forces one (``device`` on a CPU is the host). On the host and stream paths
each batch's rows are read on the host: one host sync per batch, which the device path does
not have.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

import torch

Route = Literal["device", "host", "stream"]

GIB = 1024**3


@dataclass(frozen=True)
class Placement:
    path: Route
    reason: str  # why, with the sizes compared

    def __str__(self) -> str:
        return f"{self.path} ({self.reason})"


def choose_placement(
    nbytes: int,
    device: torch.device,
    *,
    gpu_bytes: int,
    host_bytes: int,
    gpu_fraction: float,
    host_fraction: float,
    forced: str = "auto",
) -> Placement:
    """The path for a decoded set of ``nbytes`` (``gpu_bytes``: the GPU's memory;
    ``host_bytes``: the host's, ``host_memory``)."""
    size = f"{_size(nbytes)} decoded"
    on_gpu = device.type == "cuda"
    if forced != "auto":
        if forced == "device" and not on_gpu:
            return Placement("host", f"{size}; data_placement device, and the device is the CPU")
        return Placement(cast(Route, forced), f"{size}; data_placement {forced}")
    if on_gpu:
        gpu_share = f"{gpu_fraction:.0%} of the GPU's {_size(gpu_bytes)}"
        if nbytes <= gpu_fraction * gpu_bytes:
            return Placement("device", f"{size} ≤ {gpu_share}")
        where = f"> {gpu_share}; "
    else:
        where = "the device is the CPU; "
    host_share = f"{host_fraction:.0%} of the {_size(host_bytes)} of host memory"
    if nbytes <= host_fraction * host_bytes:
        return Placement("host", f"{size}: {where}≤ {host_share}")
    return Placement("stream", f"{size}: {where}> {host_share}")


def host_memory() -> int:
    """Bytes of host memory this process may use: the machine's (``MemTotal``), or its
    cgroup's limit where lower (a Slurm or Kubernetes job's)."""
    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    for limit in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        with contextlib.suppress(OSError, ValueError):
            total = min(total, int(Path(limit).read_text().strip()))  # "max": no limit
    return total


def describe(
    placement: Placement, device: torch.device, file: Path | None = None, *, mapped: bool = False
) -> str:
    """The log line's words: which path, where the batches come from, and why (``mapped``:
    the set was read from its cache ``file``, memory-mapped, not decoded in this process)."""
    if placement.path == "device":
        where = f"on {device}, whole"
    elif placement.path == "host":
        where = "in host memory"
        if mapped:
            where += (
                f", memory-mapped from the cache file {file or ''} (read from disk as first"
                " used, then held in the page cache, which a machine's workers share)"
            )
        if device.type == "cuda":
            where += f", batches copied to {device} through a pinned buffer (non_blocking)"
    else:
        where = f"streamed from the memory-mapped cache file {file or ''}".rstrip()
    return f"{where} — {placement.reason}"


def gpu_memory(device: torch.device) -> int:
    """The accelerator's memory in bytes (0 for the CPU)."""
    if device.type != "cuda":
        return 0
    return int(torch.cuda.get_device_properties(device).total_memory)


def _size(nbytes: float) -> str:
    if nbytes >= GIB:
        return f"{nbytes / GIB:.1f} GiB"
    return f"{nbytes / 1024**2:.1f} MiB"


class HostBatches:
    """Batches of images held on the host, gathered there and copied to ``device``.

    On a GPU the gather writes into a pinned buffer and the copy is ``non_blocking``; the
    buffer is written again only after the copy that read it has finished (a CUDA event), so
    a batch is never overwritten while it is in flight. Each thread keeps a buffer for its
    ``SHAPES`` most recently used batch shapes (a trial takes three: its training batch, and
    full and last evaluation batches); an older one is freed once its last copy is done, and
    the pinned memory it held is given back (a search over ``batch_size`` would otherwise lock
    a buffer per batch size for as long as the data set is kept).
    """

    #: Pinned buffers kept per thread, one per batch shape.
    SHAPES = 3

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self._local = threading.local()

    def take(self, images: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        rows = rows.cpu()  # the host sync of these paths: the rows are read on the host
        if self.device.type != "cuda":
            return images[rows]
        shape = (int(rows.shape[0]), *images.shape[1:])
        staged: OrderedDict[tuple[int, ...], tuple[torch.Tensor, torch.cuda.Event]]
        staged = self._local.__dict__.setdefault("staged", OrderedDict())
        if shape in staged:
            staged.move_to_end(shape)
        else:
            evicted = False
            while len(staged) >= self.SHAPES:
                old = staged.popitem(last=False)[1]
                old[1].synchronize()  # its last copy has read it
                del old  # the buffer: its block goes back to PyTorch's host allocator
                evicted = True
            if evicted:
                _release_pinned()
            buffer = torch.empty(shape, dtype=images.dtype, pin_memory=True)
            staged[shape] = (buffer, torch.cuda.Event())  # type: ignore[no-untyped-call]
        buffer, copied = staged[shape]
        copied.synchronize()  # the previous copy out of this buffer is done
        torch.index_select(images, 0, rows, out=buffer)
        batch = buffer.to(self.device, non_blocking=True)
        copied.record()
        return batch

    def pinned_shapes(self) -> list[tuple[int, ...]]:
        """The batch shapes this thread holds a pinned buffer for, oldest first."""
        return list(self._local.__dict__.get("staged", {}))


def _release_pinned() -> None:
    """Give back the pinned memory freed buffers held: PyTorch's host allocator keeps freed
    pinned blocks for reuse, locked, until its cache is emptied."""
    for owner, name in (
        (getattr(torch, "accelerator", None), "empty_host_cache"),  # torch 2.10 and later
        (torch._C, "_host_emptyCache"),
    ):
        empty = getattr(owner, name, None)
        if empty is not None:
            empty()
            return
