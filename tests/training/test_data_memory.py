"""Data of any size: decoding in bounded memory, crops from the whole photo."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tests.helpers import ROOT
from training.augment import center_crop_whole, random_resized_crop_flip
from training.config import TrainConfig
from training.data import channel_stats, load_data
from training.splits import Split


def write_photo(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, quality=90)


def striped(width: int, height: int, edge: float) -> np.ndarray:
    """A grey photo with a red band down its left ``edge`` and a blue one down its right."""
    array = np.full((height, width, 3), 128, dtype=np.uint8)
    band = round(width * edge)
    array[:, :band] = (255, 0, 0)
    array[:, width - band :] = (0, 0, 255)
    return array


def test_random_resized_crops_reach_the_sides_of_a_4_3_photo(tmp_path: Path) -> None:
    # The left and right 10 % of a 4:3 photo lie outside its central square: crops from the
    # central square never showed them.
    for n in range(4):
        write_photo(tmp_path / "train" / "a" / f"{n}.jpg", striped(400, 300, 0.10))
        write_photo(tmp_path / "train" / "b" / f"{n}.jpg", striped(400, 300, 0.10))
    bundle = load_data(
        TrainConfig.from_params({"dataset": "imagefolder", "data_dir": str(tmp_path),
                                 "resolution": 96, "val_fraction": 0.25})
    )  # fmt: skip
    train = bundle.train
    assert train.aspect is not None and train.aspect.tolist() == pytest.approx([4 / 3] * 8)
    index = torch.arange(len(train)).repeat(50)
    crops = random_resized_crop_flip(
        train.take(index), 96, torch.Generator().manual_seed(0), aspect=train.aspects(index)
    )
    red = (crops[:, 0] > 200) & (crops[:, 2] < 60)
    blue = (crops[:, 2] > 200) & (crops[:, 0] < 60)
    assert red.any() and blue.any()
    # The evaluation crop is the usual centre (resize the short side, crop): no band in it.
    centre = center_crop_whole(train.images, train.aspect, 96, bundle.stored_resolution)
    assert not ((centre[:, 0] > 200) & (centre[:, 2] < 60)).any()


def test_the_centre_crop_of_a_whole_photo_is_resize_then_crop(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    smooth = np.kron(rng.integers(0, 256, (6, 8, 3)), np.ones((50, 50, 1))).astype(np.uint8)
    write_photo(tmp_path / "train" / "a" / "0.jpg", smooth)  # 400 × 300
    write_photo(tmp_path / "train" / "b" / "0.jpg", smooth[:, ::-1].copy())
    config = {"dataset": "imagefolder", "data_dir": str(tmp_path), "resolution": 224}
    bundle = load_data(TrainConfig.from_params(config))
    split = bundle.train if len(bundle.train) else bundle.val
    assert split.aspect is not None
    got = center_crop_whole(split.images, split.aspect, 224, 256)
    # Expected: the photo resized to 256 on its short side, its centre 224 × 224.
    photo = Image.open(tmp_path / "train" / "a" / "0.jpg").convert("RGB").resize((341, 256))
    left, top = (341 - 224) // 2, (256 - 224) // 2
    expected = np.asarray(photo.crop((left, top, left + 224, top + 224)), dtype=np.float32)
    first = split.labels.tolist().index(0)
    diff = np.abs(got[first].permute(1, 2, 0).numpy() - expected)
    assert diff.mean() < 6, diff.mean()


def test_channel_statistics_are_exact_over_shared_rows() -> None:
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (300, 3, 9, 7), dtype=torch.uint8, generator=generator)
    rows = torch.arange(1, 300, 3)
    split = Split(images, torch.zeros(len(rows), dtype=torch.int64), rows)
    mean, std = channel_stats(split)
    chosen = images[rows].double() / 255
    assert mean.flatten().tolist() == pytest.approx(chosen.mean(dim=(0, 2, 3)).tolist())
    expected_std = chosen.std(dim=(0, 2, 3), unbiased=False).tolist()
    assert std.flatten().tolist() == pytest.approx(expected_std, rel=1e-5)


MEASURE = textwrap.dedent(
    """
    import json, sys
    from training.config import TrainConfig

    def rss(field):
        for line in open("/proc/self/status"):
            if line.startswith(field):
                return int(line.split()[1]) * 1024
        raise RuntimeError(field)

    import torch, torchvision.ops, PIL.Image  # what decoding loads, before the baseline
    from training.data import load_data
    before = rss("VmRSS:")
    bundle = load_data(TrainConfig.from_params(json.loads(sys.argv[1])))
    train = bundle.train
    cache = train.images.numel() + (0 if bundle.test is None else bundle.test.images.numel())
    print(json.dumps({"before": before, "peak": rss("VmHWM:"), "cache": cache,
                      "images": len(train) + len(bundle.val)}))
    """
)


@pytest.mark.slow
def test_decoding_5000_photos_at_224_px_peaks_under_1_5_times_the_cache(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    root = tmp_path / "photos"
    for n in range(5000):
        base = rng.integers(0, 256, (3, 4, 3), dtype=np.uint8)
        array = np.kron(base, np.ones((80, 80, 1), dtype=np.uint8))  # 320 × 240, a 4:3 photo
        write_photo(root / "train" / f"class{n % 10}" / f"{n}.jpg", array)
    params = {"dataset": "imagefolder", "data_dir": str(root), "resolution": 224,
              "cache_dir": str(tmp_path / "cache")}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, json.dumps(params)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    measured = json.loads(done.stdout)
    assert measured["images"] == 5000 and measured["cache"] == 5000 * 3 * 256 * 256
    grown = measured["peak"] - measured["before"]
    print(f"cache {measured['cache'] / 2**20:.0f} MiB, peak {measured['peak'] / 2**20:.0f} MiB, "
          f"grown {grown / 2**20:.0f} MiB")  # fmt: skip
    assert grown < 1.5 * measured["cache"], measured
