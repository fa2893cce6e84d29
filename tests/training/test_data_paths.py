"""Where the decoded data set lives while training: on the GPU, in host memory, or read from
its memory-mapped cache file; chosen by size (``training.placement``), logged, and forced
with ``data_placement``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from training import fit
from training.config import TrainConfig
from training.data import clear_memory_cache, load_data
from training.decode import SCRATCH, Scratch, allocate
from training.placement import HostBatches, choose_placement, host_memory

GIB = 1024**3
CUDA = torch.device("cuda")
CPU = torch.device("cpu")


@pytest.mark.parametrize(
    ("nbytes", "device", "forced", "path", "words"),
    [
        (1 * GIB, CUDA, "auto", "device", "1.0 GiB decoded ≤ 25% of the GPU's 80.0 GiB"),
        (30 * GIB, CUDA, "auto", "host", "> 25% of the GPU's 80.0 GiB; ≤ 50% of the 512.0 GiB"),
        (300 * GIB, CUDA, "auto", "stream", "> 25% of the GPU's 80.0 GiB; > 50% of the 512.0"),
        (20 * GIB, CUDA, "auto", "device", "20.0 GiB decoded ≤ 25%"),  # the limit itself fits
        (1 * GIB, CPU, "auto", "host", "the device is the CPU; ≤ 50% of the 512.0 GiB"),
        (300 * GIB, CPU, "auto", "stream", "the device is the CPU; > 50% of the 512.0 GiB"),
        (1 * GIB, CUDA, "stream", "stream", "data_placement stream"),
        (1 * GIB, CUDA, "host", "host", "data_placement host"),
        (1 * GIB, CPU, "device", "host", "data_placement device, and the device is the CPU"),
    ],
)
def test_the_path_follows_the_size_against_each_memory(
    nbytes: int, device: torch.device, forced: str, path: str, words: str
) -> None:
    placement = choose_placement(
        nbytes,
        device,
        gpu_bytes=80 * GIB,
        host_bytes=512 * GIB,
        gpu_fraction=0.25,
        host_fraction=0.5,
        forced=forced,
    )
    assert placement.path == path
    assert words in placement.reason, placement.reason


def test_host_memory_is_this_machines_at_most() -> None:
    import os

    assert 0 < host_memory() <= os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def test_a_tensor_over_the_decoding_budget_is_file_backed(tmp_path: Path) -> None:
    token = SCRATCH.set(Scratch(tmp_path, budget=1000))
    try:
        small, large = allocate((2, 3, 8, 8)), allocate((10, 3, 8, 8))
    finally:
        SCRATCH.reset(token)
    assert small.untyped_storage().filename is None
    assert large.untyped_storage().filename is not None and large.shape == (10, 3, 8, 8)
    large.fill_(7)
    assert int(large.sum()) == 7 * large.numel()
    assert list(tmp_path.iterdir()) == []  # the mapping holds the space; no file stays behind


def photos(root: Path, per_class: int = 24) -> Path:
    """Two classes of small generated photos (3:2, a colour each plus noise)."""
    rng = np.random.default_rng(0)
    for label, colour in enumerate([(200, 40, 40), (40, 40, 200)]):
        for n in range(per_class):
            noise = rng.integers(-60, 60, (24, 36, 3))
            array = np.clip(np.array(colour) + noise, 0, 255).astype(np.uint8)
            path = root / "train" / f"c{label}" / f"{n}.jpg"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(array).save(path, quality=95)
    return root


def mapped_files() -> str:
    return Path("/proc/self/maps").read_text()


def test_the_stream_path_trains_from_the_memory_mapped_cache_file_as_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("HPO_CACHE_DIR", str(tmp_path / "cache"))
    caplog.set_level(logging.INFO, logger="training")
    params: dict[str, Any] = {
        "dataset": "imagefolder",
        "data_dir": str(photos(tmp_path / "photos")),
        "resolution": 16,
        "val_fraction": 0.25,
        "model": "simple_cnn",
        "batch_size": 8,
        "num_epochs": 2,
        "lr": 0.05,
        "device": "cpu",
    }
    clear_memory_cache()
    # Decoded straight into a file-backed buffer (the budget of the stream path is none),
    # written to the cache file, then trained on that file memory-mapped.
    streamed = fit({**params, "data_placement": "stream"})
    cache = next((tmp_path / "cache" / "datasets").glob("imagefolder-16px-*.pt"))
    assert "into a file-backed buffer" in caplog.text
    assert f"streamed from the memory-mapped cache file {cache}" in caplog.text
    bundle = load_data(TrainConfig.from_params({**params, "data_placement": "stream"}))
    assert bundle.placement.path == "stream" and str(cache) in mapped_files()
    assert list((tmp_path / "cache" / "datasets" / "scratch").iterdir()) == []

    clear_memory_cache()
    cache.unlink()  # decoded again, in memory this time
    in_memory = fit({**params, "data_placement": "host"})
    assert "in host memory — " in caplog.text
    assert in_memory == {**streamed, "train_seconds": in_memory["train_seconds"],
                         "images_per_second": in_memory["images_per_second"]}  # fmt: skip
    assert streamed["val_acc"] > 0.5  # two colours: it learned something

    clear_memory_cache()  # a new process: the cache file exists now, and is memory-mapped
    caplog.clear()
    bundle = load_data(TrainConfig.from_params({**params, "data_placement": "host"}))
    assert bundle.placement.path == "host" and str(cache) in mapped_files()
    assert f"in host memory, memory-mapped from the cache file {cache} (" in caplog.text


def test_batches_gathered_on_the_host_are_the_rows_asked_for() -> None:
    images = torch.arange(5 * 3 * 2 * 2, dtype=torch.uint8).reshape(5, 3, 2, 2)
    rows = torch.tensor([4, 0, 2])
    assert torch.equal(HostBatches(CPU).take(images, rows), images[rows])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_on_a_gpu_the_host_path_copies_through_a_pinned_buffer() -> None:
    params = {"dataset": "digits", "model": "simple_cnn", "num_epochs": 1, "device": "cuda"}
    clear_memory_cache()
    on_device = load_data(TrainConfig.from_params(params), CUDA)
    on_host = load_data(TrainConfig.from_params({**params, "data_placement": "host"}), CUDA)
    assert on_device.train.images.is_cuda and not on_host.train.images.is_cuda
    index = torch.randperm(len(on_host.train), device=CUDA)[:64]
    for _ in range(3):  # the buffer is reused: each batch still the rows asked for
        batch = on_host.train.take(index)
        assert batch.is_cuda and torch.equal(batch, on_device.train.take(index))
    metrics = fit({**params, "data_placement": "host"})
    assert metrics["val_acc"] > 0.1


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_pinned_buffers_are_kept_for_the_latest_batch_shapes_only() -> None:
    images = torch.randint(0, 255, (200, 3, 8, 8), dtype=torch.uint8)
    host = HostBatches(CUDA)
    for size in (32, 64, 128, 64, 16, 100):  # a search over batch_size, in one process
        rows = torch.randperm(200)[:size]
        assert torch.equal(host.take(images, rows).cpu(), images[rows])
    shapes = host.pinned_shapes()
    assert [s[0] for s in shapes] == [64, 16, 100]  # the three latest used; the rest freed
