"""Data sets as uint8 tensors, decoded once per machine.

Every loader returns whole splits as ``uint8`` tensors ``N×C×H×W`` plus labels, stored at a
fixed resolution. Images are decoded once into a cache file (keyed by data set, directory
contents, split and resolution) under ``$HPO_CACHE_DIR`` (default ``~/.cache/hpo``); every
later trial on the machine reads that file (memory-mapped), and every later trial in the same
process reuses the tensors already read. The training loop then only indexes tensors: there is no
per-image Python work while training.

The data sets themselves are in ``loaders`` (by name), decoding in ``decode``, the split
type in ``splits``.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import torch

from training.config import TrainConfig, cache_root
from training.decode import DECODE_STATS, SCRATCH, Scratch, stores_whole
from training.loaders import DatasetKind, dataset_kind
from training.placement import (
    HostBatches,
    Placement,
    choose_placement,
    describe,
    gpu_memory,
    host_memory,
)
from training.splits import DataError, RawData, Split, carve_validation, per_class_subset

__all__ = [
    "DECODE_STATS",
    "DataBundle",
    "DataError",
    "Split",
    "clear_memory_cache",
    "load_data",
    "stored_resolution",
]

log = logging.getLogger("training.data")

#: 2: large images stored whole with their aspect ratios.
CACHE_FORMAT = 2
#: Images per chunk when computing statistics (bounded memory: 64 × 3 × 256² int32, 50 MB).
STATS_CHUNK = 64


@dataclass(frozen=True)
class DataBundle:
    train: Split
    val: Split
    test: Split | None
    classes: tuple[str, ...]
    resolution: int  # the size the model sees
    stored_resolution: int  # the size in the cache (larger, for random-resized crops)
    flip: bool  # whether horizontal flips are a valid augmentation
    mean: torch.Tensor  # per-channel statistics of the training images, C×1×1, in [0, 1] units
    std: torch.Tensor
    placement: Placement  # where the images live while training, and why

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def whole_images(self) -> bool:
        """Stored whole with their aspect ratios (see ``decode``): crops need the ratios."""
        return self.train.aspect is not None

    @property
    def channels(self) -> int:
        return int(self.train.images.shape[1])


_MEMORY: dict[str, RawData] = {}
_MAPPED: set[str] = set()  # keys of _MEMORY read from their cache file, memory-mapped
_BUNDLES: dict[tuple[object, ...], DataBundle] = {}
_MEMORY_LOCK = threading.Lock()
#: Bundles kept per accelerator: the whole data set lives in GPU memory, so keep few.
DEVICE_BUNDLES = 2


def load_data(config: TrainConfig, device: torch.device | None = None) -> DataBundle:
    """The train / val / test splits for a config, for training on ``device`` (default: the
    CPU).

    Decoded once per machine (the cache file), read once per process (kept as decoded, or
    the cache file memory-mapped where it existed already), and, when it fits
    (``placement``), copied to an accelerator once per process.
    """
    c = config
    device = device or torch.device("cpu")
    kind = dataset_kind(c.dataset)
    resolution = c.resolution or kind.default_resolution
    stored = stored_resolution(resolution)
    key = _cache_key(kind, c, stored)
    placing = (c.data_placement, c.gpu_data_fraction, c.host_data_fraction)
    memo = (key, c.val_fraction, c.subset_per_class, resolution, placing, str(device))
    with _MEMORY_LOCK:
        if memo in _BUNDLES:
            return _BUNDLES[memo]
    host_bytes = host_memory()
    # Decoding itself goes to a file-backed buffer where the set would take more host
    # memory than its share (the stream path), so that it never needs that memory.
    budget = {"stream": 0.0, "host": math.inf, "device": math.inf}.get(
        c.data_placement, c.host_data_fraction * host_bytes
    )
    raw = _cached(key, kind, c, stored, Scratch(cache_dir(c) / "scratch", budget))
    placement = choose_placement(
        _decoded_bytes(raw),
        device,
        gpu_bytes=gpu_memory(device),
        host_bytes=host_bytes,
        gpu_fraction=c.gpu_data_fraction,
        host_fraction=c.host_data_fraction,
        forced=c.data_placement,
    )
    if placement.path == "stream":
        raw = _mapped(key, kind, c, stored)
    file = _cache_file(key, kind, c, stored)
    with _MEMORY_LOCK:
        mapped = key in _MAPPED  # read from the cache file (memory-mapped), not decoded here
    where = describe(placement, device, file, mapped=mapped)
    log.info("data %s at %d px: %s", kind.name, stored, where)
    train, val = raw.train, raw.val
    if val is None:
        train, val = carve_validation(train, c.val_fraction)
    if c.subset_per_class is not None:
        train = per_class_subset(train, c.subset_per_class)
    mean, std = channel_stats(train)
    to_device = device if placement.path == "device" else torch.device("cpu")
    host = HostBatches(device) if to_device != device else None
    moved: dict[int, tuple[torch.Tensor, torch.Tensor | None]] = {}

    def place(split: Split) -> Split:
        # Splits carved from one tensor share it: move each tensor once.
        key = id(split.images)
        if key not in moved:
            aspect = None if split.aspect is None else split.aspect.to(device)
            moved[key] = (split.images.to(to_device), aspect)
        return split.on(*moved[key], device, host)

    bundle = DataBundle(
        place(train),
        place(val),
        place(raw.test) if raw.test is not None else None,
        raw.classes,
        resolution,
        stored,
        kind.flip,
        mean.to(device),
        std.to(device),
        placement,
    )
    with _MEMORY_LOCK:
        if device.type != "cpu":
            on_device = [k for k in _BUNDLES if k[-1] == str(device)]
            for old in on_device[: max(0, len(on_device) - DEVICE_BUNDLES + 1)]:
                del _BUNDLES[old]
        _BUNDLES[memo] = bundle
    return bundle


def _decoded_bytes(raw: RawData) -> int:
    """Bytes of the decoded images (a tensor shared by splits counted once)."""
    tensors = {id(s.images): s.images for s in (raw.train, raw.val, raw.test) if s is not None}
    return sum(t.numel() * t.element_size() for t in tensors.values())


def stored_resolution(resolution: int) -> int:
    """Small images are stored as used; large ones with a margin for random-resized crops
    and the usual resize-256-crop-224 evaluation."""
    return resolution if not stores_whole(resolution) else round(resolution * 8 / 7)


def channel_stats(split: Split) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std of a split's uint8 images in [0, 1] units, shape C×1×1.

    Exact integer sums over chunks of ``STATS_CHUNK`` images: memory stays bounded and the
    result does not depend on the order or the chunking.
    """
    channels = int(split.images.shape[1])
    total = torch.zeros(channels, dtype=torch.int64)
    total_sq = torch.zeros(channels, dtype=torch.int64)
    for start in range(0, len(split), STATS_CHUNK):
        x = split.take(split.positions(start, start + STATS_CHUNK)).to(torch.int32)
        total += x.sum(dim=(0, 2, 3), dtype=torch.int64).cpu()
        total_sq += x.square().sum(dim=(0, 2, 3), dtype=torch.int64).cpu()
    count = max(1, len(split) * int(split.images.shape[2]) * int(split.images.shape[3]))
    mean = total.double() / (count * 255.0)
    var = total_sq.double() / (count * 255.0 * 255.0) - mean * mean
    std = var.clamp_min(1e-12).sqrt()
    return mean.float().view(-1, 1, 1), std.float().view(-1, 1, 1)


def cache_dir(config: TrainConfig) -> Path:
    return cache_root(config.cache_dir) / "datasets"


def _cache_key(kind: DatasetKind, config: TrainConfig, stored: int) -> str:
    fingerprint = kind.fingerprint(config)
    text = f"{CACHE_FORMAT}|{kind.name}|{fingerprint}|{config.train_split}|{stored}"
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _cached(
    key: str, kind: DatasetKind, config: TrainConfig, stored: int, scratch: Scratch
) -> RawData:
    with _MEMORY_LOCK:
        if key in _MEMORY:
            return _MEMORY[key]
        path = _cache_file(key, kind, config, stored)
        raw = _read_cache(path)
        if raw is None:
            log.info("decoding %s at %d px into %s (once per machine)", kind.name, stored, path)
            token = SCRATCH.set(scratch)
            try:
                raw = kind.load(config, stored)
            finally:
                SCRATCH.reset(token)
            _write_cache(path, raw)
        else:
            _MAPPED.add(key)
        _MEMORY[key] = raw
        return raw


def _mapped(key: str, kind: DatasetKind, config: TrainConfig, stored: int) -> RawData:
    """The data set read from its cache file, memory-mapped (what was decoded in memory or
    into a scratch file is let go)."""
    with _MEMORY_LOCK:
        if key not in _MAPPED:
            raw = _read_cache(_cache_file(key, kind, config, stored))
            if raw is None:
                raise DataError(f"the cache file of {kind.name} at {stored} px cannot be read")
            _MEMORY[key] = raw
            _MAPPED.add(key)
        return _MEMORY[key]


def _cache_file(key: str, kind: DatasetKind, config: TrainConfig, stored: int) -> Path:
    return cache_dir(config) / f"{kind.name}-{stored}px-{key}.pt"


def clear_memory_cache() -> None:
    """Forget what this process holds (as a new worker process would start)."""
    with _MEMORY_LOCK:
        _MEMORY.clear()
        _MAPPED.clear()
        _BUNDLES.clear()


def _read_cache(path: Path) -> RawData | None:
    if not path.exists():
        return None
    try:
        data = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as exc:  # a torn or foreign file: decode again
        log.warning("ignoring unreadable cache %s: %s", path, exc)
        return None

    def split(name: str) -> Split | None:
        if f"{name}_images" not in data:
            return None
        aspect = data.get(f"{name}_aspect")
        return Split(data[f"{name}_images"], data[f"{name}_labels"], aspect=aspect)

    train = split("train")
    assert train is not None
    return RawData(train, split("val"), split("test"), tuple(data["classes"]))


def _write_cache(path: Path, raw: RawData) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data: dict[str, object] = {"classes": list(raw.classes)}
    for name in ("train", "val", "test"):
        split = getattr(raw, name)
        if split is not None:
            split = split.compact()
            data[f"{name}_images"] = split.images.contiguous()
            data[f"{name}_labels"] = split.labels
            if split.aspect is not None:
                data[f"{name}_aspect"] = split.aspect
    # Write then rename: workers starting together never read a half-written file.
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    torch.save(data, tmp)
    tmp.replace(path)
