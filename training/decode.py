"""Decoding image files into uint8 tensors, once, in bounded memory.

Small images (≤ ``SMALL_IMAGE_MAX`` px stored) are resized on their short side and
centre-cropped: they are used as stored. Larger ones are stored *whole*, squeezed to a
square, with each original's aspect ratio beside them, so that training can take
random-resized crops from anywhere in the photo (the sides of a 4:3 photo included) and
evaluation its usual centre crop (``augment``).

The output tensor is the cache itself, allocated once; images are decoded into it a chunk at
a time by a few threads, so that nothing else grows with the data set.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from training.splits import DataError, Split

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
#: Counts images decoded in this process (tests use it to prove the cache is reused).
DECODE_STATS: Counter[str] = Counter()
#: Images stored at up to this size are used as stored (no random-resized crops).
SMALL_IMAGE_MAX = 64
#: Images decoded per round of the thread pool: bounds what is in flight at once.
DECODE_CHUNK = 256
#: A long decode says how far it got at most this often (seconds).
PROGRESS_SECONDS = 5.0

log = logging.getLogger("training.decode")


def stores_whole(size: int) -> bool:
    """Whether images stored at ``size`` px are kept whole (for random-resized crops)."""
    return size > SMALL_IMAGE_MAX


def decode_files(paths: Sequence[Path], size: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Decode image files to a uint8 ``N×3×size×size`` tensor and, for whole images, their
    aspect ratios (float32 N; None for small images, centre-cropped).

    Threads: Pillow releases the GIL while decoding and resizing, so this uses every core.
    """
    whole = stores_whole(size)
    out = allocate((len(paths), 3, size, size))
    aspect = torch.empty(len(paths), dtype=torch.float32) if whole else None

    def decode(i: int) -> None:
        out[i], ratio = _decode_one(paths[i], size, whole=whole)
        if aspect is not None:
            aspect[i] = ratio

    shown = time.monotonic()
    with ThreadPoolExecutor(max_workers=usable_cpus()) as pool:
        for start in range(0, len(paths), DECODE_CHUNK):
            done = min(len(paths), start + DECODE_CHUNK)
            list(pool.map(decode, range(start, done)))
            if time.monotonic() - shown >= PROGRESS_SECONDS and done < len(paths):
                shown = time.monotonic()
                log.info(
                    "decoded %d of %d images (%.0f%%)", done, len(paths), 100 * done / len(paths)
                )
    DECODE_STATS["images"] += len(paths)
    return out, aspect


@dataclass(frozen=True)
class Scratch:
    """Where decoding writes a tensor larger than ``budget`` bytes: a file in ``directory``
    (mapped shared, so that its pages go to the file rather than to the process's memory)."""

    directory: Path
    budget: float


#: Set by ``data`` for a decode (the stream path: a set larger than host memory allows).
SCRATCH: ContextVar[Scratch | None] = ContextVar("SCRATCH", default=None)


def allocate(shape: tuple[int, ...]) -> torch.Tensor:
    """An uninitialised uint8 tensor: in memory, or file-backed when ``SCRATCH`` says so."""
    scratch = SCRATCH.get()
    nbytes = math.prod(shape)
    if scratch is None or nbytes <= scratch.budget:
        return torch.empty(shape, dtype=torch.uint8)
    scratch.directory.mkdir(parents=True, exist_ok=True)
    path = scratch.directory / f"decoding-{os.getpid()}-{threading.get_ident()}.u8"
    tensor = torch.from_file(str(path), shared=True, size=nbytes, dtype=torch.uint8)
    path.unlink()  # the mapping keeps the space while the tensor lives; nothing stays behind
    log.info("decoding %s images into a file-backed buffer (%s)", shape[0], scratch.directory)
    return tensor.view(shape)


def usable_cpus() -> int:
    """The cores this process may run on: a Slurm or Kubernetes job's, not the node's."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _decode_one(path: Path, size: int, *, whole: bool) -> tuple[torch.Tensor, float]:
    from PIL import Image

    try:
        with Image.open(path) as opened:
            # JPEG can decode at 1/2, 1/4, 1/8 scale directly: much faster for large photos.
            opened.draft("RGB", (size, size))
            image = opened.convert("RGB")
            width, height = image.size
            if whole:
                image = image.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=3.0)
            elif (width, height) != (size, size):
                scale = size / min(width, height)
                resized = (max(size, round(width * scale)), max(size, round(height * scale)))
                image = image.resize(resized, Image.Resampling.BILINEAR, reducing_gap=3.0)
                left, top = (resized[0] - size) // 2, (resized[1] - size) // 2
                image = image.crop((left, top, left + size, top + size))
            array = np.asarray(image, dtype=np.uint8)
    except OSError as exc:
        raise DataError(f"cannot decode image {path}: {exc}") from None
    return torch.from_numpy(array.copy()).permute(2, 0, 1), width / height


def decoded_split(paths: Sequence[Path], labels: Sequence[int], size: int) -> Split:
    images, aspect = decode_files(paths, size)
    return Split(images, torch.tensor(labels, dtype=torch.int64), aspect=aspect)


def class_folder_files(root: Path) -> tuple[list[Path], list[int], tuple[str, ...]]:
    classes = tuple(sorted(d.name for d in root.iterdir() if d.is_dir()))
    if not classes:
        raise DataError(f"no class folders in {root} (expected {root}/<class>/<image>)")
    paths: list[Path] = []
    labels: list[int] = []
    for label, name in enumerate(classes):
        files = sorted(p for p in (root / name).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        paths.extend(files)
        labels.extend([label] * len(files))
    if not paths:
        raise DataError(f"no images in the class folders of {root}")
    return paths, labels, classes


def folder_split(root: Path, size: int, classes: tuple[str, ...]) -> Split:
    paths, labels, found = class_folder_files(root)
    if found != classes:
        raise DataError(f"{root} has classes {list(found)}, the training set {list(classes)}")
    return decoded_split(paths, labels, size)


def tree_fingerprint(root: Path) -> str:
    """Number, total size and newest change of the files under ``root``: cheap to compute,
    and different whenever the data set changes."""
    n = total = newest = 0
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            st = (Path(dirpath) / name).stat()
            n += 1
            total += st.st_size
            newest = max(newest, int(st.st_mtime))
    return f"{root.resolve()}|{n}|{total}|{newest}"


def resize(images: torch.Tensor, size: int, chunk: int = 1024) -> torch.Tensor:
    """uint8 images ``N×C×H×W`` resized to ``size×size`` (antialiased bilinear), still uint8;
    a chunk at a time, so that the float copy stays small."""
    if images.shape[-1] == size and images.shape[-2] == size:
        return images
    out = torch.empty((*images.shape[:2], size, size), dtype=torch.uint8)
    for start in range(0, images.shape[0], chunk):
        resized = torch.nn.functional.interpolate(
            images[start : start + chunk].float(), size=(size, size), mode="bilinear",
            antialias=True,
        )  # fmt: skip
        out[start : start + chunk] = resized.round().clamp(0, 255).to(torch.uint8)
    return out
