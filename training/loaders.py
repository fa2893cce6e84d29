"""The data sets by name, each loaded from its own layout into uint8 splits.

Registry: ``digits`` (scikit-learn's 8×8 digits, the offline default), ``cifar10`` (the
official python-pickle layout, or the same images as JPEG class folders), ``imagefolder``
(``train/<class>/*``, optional ``val/`` and ``test/``) and ``food11`` (``training/``,
``validation/``, ``evaluation/`` with files ``<class>_<n>.jpg``; ``train_split`` picks a
variant such as ``skewed_training``).
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from training.config import TrainConfig
from training.decode import (
    class_folder_files,
    decoded_split,
    folder_split,
    resize,
    tree_fingerprint,
)
from training.splits import DataError, RawData, Split, carve_validation


@dataclass(frozen=True)
class DatasetKind:
    name: str
    default_resolution: int
    load: Callable[[TrainConfig, int], RawData]  # (config, stored resolution) → raw splits
    fingerprint: Callable[[TrainConfig], str]  # cheap summary of the files: changes → new cache
    flip: bool = True  # mirrored images are still their class (not so for digits)


def dataset_kind(name: str) -> DatasetKind:
    try:
        return DATASETS[name]
    except KeyError:
        raise DataError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}") from None


def _data_dir(config: TrainConfig, *, must_exist: bool = True) -> Path:
    if not config.data_dir:
        raise DataError(f"dataset {config.dataset} needs data_dir (a directory)")
    root = Path(config.data_dir).expanduser()
    if must_exist and not root.is_dir():
        raise DataError(f"data_dir {root} is not a directory (dataset {config.dataset})")
    return root


def _load_digits(config: TrainConfig, size: int) -> RawData:
    from sklearn.datasets import load_digits

    digits = load_digits()
    # 0..16 grey levels → uint8; one channel, 8×8.
    images = torch.from_numpy((digits.images * (255.0 / 16.0)).round().astype(np.uint8))[:, None]
    images = resize(images, size)
    labels = torch.from_numpy(digits.target.astype(np.int64))
    # scikit-learn ships one set: a fixed fifth of it, stratified, is the test set.
    everything = Split(images, labels)
    train, test = carve_validation(everything, 0.2, seed=1)
    return RawData(train.compact(), None, test.compact(), tuple(str(c) for c in range(10)))


CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip


def _cifar10_root(config: TrainConfig) -> Path:
    root = _data_dir(config, must_exist=False)
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
    tensor = resize(torch.from_numpy(np.concatenate(images)), size)
    return Split(tensor, torch.tensor(labels, dtype=torch.int64))


def _load_imagefolder(config: TrainConfig, size: int) -> RawData:
    root = _data_dir(config)
    train_dir = root / (config.train_split or "train")
    if not train_dir.is_dir():
        raise DataError(
            f"no {train_dir.name}/ folder in {root} (expected {root}/train/<class>/<image>)"
        )
    paths, labels, classes = class_folder_files(train_dir)
    train = decoded_split(paths, labels, size)
    val_dir = next((root / n for n in ("val", "valid", "validation") if (root / n).is_dir()), None)
    val = folder_split(val_dir, size, classes) if val_dir else None
    test = folder_split(root / "test", size, classes) if (root / "test").is_dir() else None
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
    return decoded_split(paths, labels, size)


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
    return tree_fingerprint(_data_dir(config))


def _cifar_fingerprint(config: TrainConfig) -> str:
    return tree_fingerprint(_cifar10_root(config))


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
