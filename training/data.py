"""Data sets as uint8 tensors, decoded once per machine.

Every loader returns whole splits as ``uint8`` tensors ``N×C×H×W`` plus labels, stored at a
fixed resolution. Images are decoded once into a cache file (keyed by data set, directory
contents, split and resolution) under ``$HPO_CACHE_DIR`` (default ``~/.cache/hpo``); every
later trial on the machine reads that file, and every later trial in the same process reuses
the tensors already in memory. The training loop then only indexes tensors: there is no
per-image Python work while training.

Registry: ``digits`` (scikit-learn's 8×8 digits, the offline default), ``cifar10`` (the
official python-pickle layout, or the same images as JPEG class folders), ``imagefolder``
(``train/<class>/*``, optional ``val/`` and ``test/``) and ``food11`` (``training/``,
``validation/``, ``evaluation/`` with files ``<class>_<n>.jpg``; ``train_split`` picks a
variant such as ``skewed_training``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import re
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from training.config import TrainConfig, cache_root

log = logging.getLogger("training.data")

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
#: Counts images decoded in this process (tests use it to prove the cache is reused).
DECODE_STATS: Counter[str] = Counter()
CACHE_FORMAT = 1


class DataError(FileNotFoundError):
    """A data set that is missing or not in the expected layout; the message says where."""


@dataclass(frozen=True)
class Split:
    images: torch.Tensor  # uint8 N×C×H×W
    labels: torch.Tensor  # int64 N

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def subset(self, index: torch.Tensor) -> Split:
        return Split(self.images[index], self.labels[index])

    def to(self, device: torch.device) -> Split:
        return Split(self.images.to(device), self.labels.to(device))


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

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def channels(self) -> int:
        return int(self.train.images.shape[1])


@dataclass(frozen=True)
class RawData:
    """What a loader returns: splits as stored; val or test may be absent."""

    train: Split
    val: Split | None
    test: Split | None
    classes: tuple[str, ...]


@dataclass(frozen=True)
class DatasetKind:
    name: str
    default_resolution: int
    load: Callable[[TrainConfig, int], RawData]  # (config, stored resolution) → raw splits
    fingerprint: Callable[[TrainConfig], str]  # cheap summary of the files: changes → new cache
    flip: bool = True  # mirrored images are still their class (not so for digits)


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------

_MEMORY: dict[str, RawData] = {}
_BUNDLES: dict[tuple[object, ...], DataBundle] = {}
_MEMORY_LOCK = threading.Lock()
#: Bundles kept per accelerator: the whole data set lives in GPU memory, so keep few.
DEVICE_BUNDLES = 2


def load_data(config: TrainConfig, device: torch.device | None = None) -> DataBundle:
    """The train / val / test splits for a config, on ``device`` (default: the CPU).

    Decoded once per machine (the cache file), read once per process (kept in memory), and
    copied to an accelerator once per process.
    """
    device = device or torch.device("cpu")
    kind = dataset_kind(config.dataset)
    resolution = config.resolution or kind.default_resolution
    stored = stored_resolution(resolution)
    key = _cache_key(kind, config, stored)
    memo = (key, config.val_fraction, config.subset_per_class, resolution, str(device))
    with _MEMORY_LOCK:
        if memo in _BUNDLES:
            return _BUNDLES[memo]
    raw = _cached(key, kind, config, stored)
    train, val = raw.train, raw.val
    if val is None:
        train, val = carve_validation(train, config.val_fraction)
    if config.subset_per_class is not None:
        train = per_class_subset(train, config.subset_per_class)
    from training.augment import channel_stats

    mean, std = channel_stats(train.images)
    bundle = DataBundle(
        train.to(device),
        val.to(device),
        raw.test.to(device) if raw.test is not None else None,
        raw.classes,
        resolution,
        stored,
        kind.flip,
        mean.to(device),
        std.to(device),
    )
    with _MEMORY_LOCK:
        if device.type != "cpu":
            on_device = [k for k in _BUNDLES if k[-1] == str(device)]
            for old in on_device[: max(0, len(on_device) - DEVICE_BUNDLES + 1)]:
                del _BUNDLES[old]
        _BUNDLES[memo] = bundle
    return bundle


def dataset_kind(name: str) -> DatasetKind:
    try:
        return DATASETS[name]
    except KeyError:
        raise DataError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}") from None


def stored_resolution(resolution: int) -> int:
    """Small images are stored as used; large ones with a margin for random-resized crops
    and the usual resize-256-crop-224 evaluation."""
    return resolution if resolution <= 64 else round(resolution * 8 / 7)


def cache_dir(config: TrainConfig) -> Path:
    return cache_root(config.cache_dir) / "datasets"


def _cache_key(kind: DatasetKind, config: TrainConfig, stored: int) -> str:
    fingerprint = kind.fingerprint(config)
    text = f"{CACHE_FORMAT}|{kind.name}|{fingerprint}|{config.train_split}|{stored}"
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _cached(key: str, kind: DatasetKind, config: TrainConfig, stored: int) -> RawData:
    with _MEMORY_LOCK:
        if key in _MEMORY:
            return _MEMORY[key]
        path = cache_dir(config) / f"{kind.name}-{stored}px-{key}.pt"
        raw = _read_cache(path)
        if raw is None:
            log.info("decoding %s at %d px into %s (once per machine)", kind.name, stored, path)
            raw = kind.load(config, stored)
            _write_cache(path, raw)
        _MEMORY[key] = raw
        return raw


def clear_memory_cache() -> None:
    """Forget what this process holds (as a new worker process would start)."""
    with _MEMORY_LOCK:
        _MEMORY.clear()
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
        return Split(data[f"{name}_images"], data[f"{name}_labels"])

    train = split("train")
    assert train is not None
    return RawData(train, split("val"), split("test"), tuple(data["classes"]))


def _write_cache(path: Path, raw: RawData) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data: dict[str, object] = {"classes": list(raw.classes)}
    for name in ("train", "val", "test"):
        split = getattr(raw, name)
        if split is not None:
            data[f"{name}_images"] = split.images.contiguous()
            data[f"{name}_labels"] = split.labels
    # Write then rename: workers starting together never read a half-written file.
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    torch.save(data, tmp)
    tmp.replace(path)


# --------------------------------------------------------------------------------------------
# Splitting
# --------------------------------------------------------------------------------------------


def carve_validation(train: Split, fraction: float, seed: int = 0) -> tuple[Split, Split]:
    """A stratified validation split taken from the training set, the same on every run.

    With CIFAR-10's 5,000 training images per class and ``fraction=0.1`` this gives seed
    002's 4,500 / 500 per class.
    """
    generator = torch.Generator().manual_seed(seed)
    keep: list[torch.Tensor] = []
    held: list[torch.Tensor] = []
    for label in torch.unique(train.labels):
        index = torch.nonzero(train.labels == label).flatten()
        index = index[torch.randperm(len(index), generator=generator)]
        n_val = max(1, round(len(index) * fraction)) if len(index) > 1 else 0
        held.append(index[:n_val])
        keep.append(index[n_val:])
    train_index = torch.sort(torch.cat(keep)).values
    val_index = torch.sort(torch.cat(held)).values
    return train.subset(train_index), train.subset(val_index)


def per_class_subset(split: Split, per_class: int, seed: int = 0) -> Split:
    generator = torch.Generator().manual_seed(seed)
    chosen = []
    for label in torch.unique(split.labels):
        index = torch.nonzero(split.labels == label).flatten()
        chosen.append(index[torch.randperm(len(index), generator=generator)[:per_class]])
    return split.subset(torch.sort(torch.cat(chosen)).values)


# --------------------------------------------------------------------------------------------
# Decoding image files
# --------------------------------------------------------------------------------------------


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


def _class_folder_files(root: Path) -> tuple[list[Path], list[int], tuple[str, ...]]:
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


def _folder_split(root: Path, size: int, classes: tuple[str, ...]) -> Split:
    paths, labels, found = _class_folder_files(root)
    if found != classes:
        raise DataError(f"{root} has classes {list(found)}, the training set {list(classes)}")
    return Split(decode_files(paths, size), torch.tensor(labels, dtype=torch.int64))


def _tree_fingerprint(root: Path) -> str:
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


def _data_dir(config: TrainConfig) -> Path:
    if not config.data_dir:
        raise DataError(f"dataset {config.dataset} needs data_dir (a directory)")
    root = Path(config.data_dir).expanduser()
    if not root.is_dir():
        raise DataError(f"data_dir {root} is not a directory (dataset {config.dataset})")
    return root


# --------------------------------------------------------------------------------------------
# Loaders
# --------------------------------------------------------------------------------------------


def _load_digits(config: TrainConfig, size: int) -> RawData:
    from sklearn.datasets import load_digits

    digits = load_digits()
    # 0..16 grey levels → uint8; one channel, 8×8.
    images = torch.from_numpy((digits.images * (255.0 / 16.0)).round().astype(np.uint8))[:, None]
    if size != 8:
        images = torch.nn.functional.interpolate(
            images.float(), size=(size, size), mode="bilinear", antialias=True
        )
        images = images.round().clamp(0, 255).to(torch.uint8)
    labels = torch.from_numpy(digits.target.astype(np.int64))
    # scikit-learn ships one set: a fixed fifth of it, stratified, is the test set.
    everything = Split(images, labels)
    train, test = carve_validation(everything, 0.2, seed=1)
    return RawData(train, None, test, tuple(str(c) for c in range(10)))


CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip


def _cifar10_root(config: TrainConfig) -> Path:
    if not config.data_dir:
        raise DataError("dataset cifar10 needs data_dir (a directory)")
    root = Path(config.data_dir).expanduser()
    if config.download and not (root / "cifar-10-batches-py").is_dir():
        from torchvision.datasets import CIFAR10

        root.mkdir(parents=True, exist_ok=True)
        CIFAR10(str(root), train=True, download=True)  # torchvision's own download and checks
    return _data_dir(config)


def _load_cifar10(config: TrainConfig, size: int) -> RawData:
    root = _cifar10_root(config)
    batches = root / "cifar-10-batches-py"
    if batches.is_dir():
        train = _cifar_pickles([batches / f"data_batch_{i}" for i in range(1, 6)], size)
        test = _cifar_pickles([batches / "test_batch"], size)
        return RawData(train, None, test, CIFAR10_CLASSES)
    if (root / "train").is_dir():  # the same images as JPEG class folders
        raw = _load_imagefolder(config, size)
        return raw
    raise DataError(
        f"no CIFAR-10 in {root}: expected {batches}/data_batch_1… (the official python "
        "version; download=true fetches it) or train/<class>/ image folders"
    )


def _cifar_pickles(files: Sequence[Path], size: int) -> Split:
    images, labels = [], []
    for file in files:
        if not file.exists():
            raise DataError(f"missing CIFAR-10 file {file}")
        with file.open("rb") as f:
            batch = pickle.load(f, encoding="latin1")
        images.append(np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
        labels.extend(batch["labels"])
    tensor = torch.from_numpy(np.concatenate(images))
    if size != 32:
        tensor = torch.nn.functional.interpolate(
            tensor.float(), size=(size, size), mode="bilinear", antialias=True
        )
        tensor = tensor.round().clamp(0, 255).to(torch.uint8)
    return Split(tensor, torch.tensor(labels, dtype=torch.int64))


def _load_imagefolder(config: TrainConfig, size: int) -> RawData:
    root = _data_dir(config)
    train_dir = root / (config.train_split or "train")
    if not train_dir.is_dir():
        raise DataError(
            f"no {train_dir.name}/ folder in {root} (expected {root}/train/<class>/<image>)"
        )
    paths, labels, classes = _class_folder_files(train_dir)
    train = Split(decode_files(paths, size), torch.tensor(labels, dtype=torch.int64))
    val_dir = next((root / n for n in ("val", "valid", "validation") if (root / n).is_dir()), None)
    val = _folder_split(val_dir, size, classes) if val_dir else None
    test = _folder_split(root / "test", size, classes) if (root / "test").is_dir() else None
    return RawData(train, val, test, classes)


_FOOD11_NAME = re.compile(r"^(\d+)_\d+\.(jpe?g|png)$", re.IGNORECASE)
FOOD11_CLASSES = (
    "Bread", "Dairy product", "Dessert", "Egg", "Fried food", "Meat",
    "Noodles/Pasta", "Rice", "Seafood", "Soup", "Vegetable/Fruit",
)  # fmt: skip


def _food11_split(directory: Path, size: int) -> Split:
    paths, labels = [], []
    for path in sorted(directory.iterdir()):
        match = _FOOD11_NAME.match(path.name)
        if match:
            paths.append(path)
            labels.append(int(match.group(1)))
    if not paths:
        raise DataError(f"no Food-11 images (<class>_<n>.jpg) in {directory}")
    if max(labels) >= len(FOOD11_CLASSES):
        raise DataError(f"{directory}: class {max(labels)} is not a Food-11 class (0..10)")
    return Split(decode_files(paths, size), torch.tensor(labels, dtype=torch.int64))


def _load_food11(config: TrainConfig, size: int) -> RawData:
    root = _data_dir(config)
    train_name = config.train_split or "training"
    if not (root / train_name).is_dir():
        raise DataError(
            f"no {train_name}/ folder in {root} "
            "(the Food-11 layout: training/, validation/, evaluation/)"
        )
    train = _food11_split(root / train_name, size)
    val = _food11_split(root / "validation", size) if (root / "validation").is_dir() else None
    test = _food11_split(root / "evaluation", size) if (root / "evaluation").is_dir() else None
    return RawData(train, val, test, FOOD11_CLASSES)


def _dir_fingerprint(config: TrainConfig) -> str:
    return _tree_fingerprint(_data_dir(config))


def _cifar_fingerprint(config: TrainConfig) -> str:
    return _tree_fingerprint(_cifar10_root(config))


def _digits_fingerprint(config: TrainConfig) -> str:
    # The version from the package metadata: importing scikit-learn costs a second or two.
    from importlib.metadata import version

    return f"sklearn-{version('scikit-learn')}"


DATASETS: dict[str, DatasetKind] = {
    k.name: k
    for k in (
        DatasetKind("digits", 8, _load_digits, _digits_fingerprint, flip=False),
        DatasetKind("cifar10", 32, _load_cifar10, _cifar_fingerprint),
        DatasetKind("imagefolder", 224, _load_imagefolder, _dir_fingerprint),
        DatasetKind("food11", 224, _load_food11, _dir_fingerprint),
    )
}
