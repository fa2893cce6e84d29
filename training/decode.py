"""Decoding image files into uint8 tensors, once: resize the short side, crop the centre."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from training.splits import DataError, Split

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
#: Counts images decoded in this process (tests use it to prove the cache is reused).
DECODE_STATS: Counter[str] = Counter()


def decode_files(paths: Sequence[Path], size: int) -> torch.Tensor:
    """Decode image files to a uint8 ``N×3×size×size`` tensor (resize short side, centre crop).

    Threads: Pillow releases the GIL while decoding and resizing, so this uses every core.
    """
    if not paths:
        return torch.empty((0, 3, size, size), dtype=torch.uint8)
    out = torch.empty((len(paths), 3, size, size), dtype=torch.uint8)

    def decode(i: int) -> None:
        out[i] = _decode_one(paths[i], size)

    with ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1)) as pool:
        list(pool.map(decode, range(len(paths))))
    DECODE_STATS["images"] += len(paths)
    return out


def _decode_one(path: Path, size: int) -> torch.Tensor:
    from PIL import Image

    try:
        with Image.open(path) as opened:
            # JPEG can decode at 1/2, 1/4, 1/8 scale directly: much faster for large photos.
            opened.draft("RGB", (size, size))
            image = opened.convert("RGB")
            width, height = image.size
            if (width, height) != (size, size):
                scale = size / min(width, height)
                resized = (max(size, round(width * scale)), max(size, round(height * scale)))
                image = image.resize(resized, Image.Resampling.BILINEAR, reducing_gap=3.0)
                left, top = (resized[0] - size) // 2, (resized[1] - size) // 2
                image = image.crop((left, top, left + size, top + size))
            array = np.asarray(image, dtype=np.uint8)
    except OSError as exc:
        raise DataError(f"cannot decode image {path}: {exc}") from None
    return torch.from_numpy(array.copy()).permute(2, 0, 1)


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
    return Split(decode_files(paths, size), torch.tensor(labels, dtype=torch.int64))


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


def resize(images: torch.Tensor, size: int) -> torch.Tensor:
    """uint8 images ``N×C×H×W`` resized to ``size×size`` (antialiased bilinear), still uint8."""
    if images.shape[-1] == size and images.shape[-2] == size:
        return images
    resized = torch.nn.functional.interpolate(
        images.float(), size=(size, size), mode="bilinear", antialias=True
    )
    return resized.round().clamp(0, 255).to(torch.uint8)
