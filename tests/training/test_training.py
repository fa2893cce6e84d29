"""training/: real (small) models on real data, on the CPU."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image
from torch.nn import functional as F

from training import data as data_module
from training import fit
from training.config import ConfigError, TrainConfig
from training.data import DECODE_STATS, DataError, clear_memory_cache, load_data
from training.distill import kd_loss
from training.models import MODELS, ModelSpec, build_model, count_parameters
from training.stopping import EarlyStopping

DIGITS = {
    "dataset": "digits",
    "model": "simple_cnn",
    "num_epochs": 8,
    "lr": 0.05,
    "momentum": 0.9,
    "nesterov": True,
    "lr_schedule": "cosine",
    "batch_size": 64,
}


def record() -> tuple[list[tuple[int, float]], Any]:
    curve: list[tuple[int, float]] = []
    return curve, lambda value, step: curve.append((step, value))


# -- real data ----------------------------------------------------------------------------------


def test_digits_reaches_80_percent_validation_accuracy() -> None:
    # Chance is 0.10. Over 40 seeds these settings gave val_acc 0.853-0.958 and test_acc
    # >= 0.847; the exact figure moves with the CPU's vector instructions, so the bar leaves room.
    curve, report = record()
    metrics = fit(DIGITS, report)
    assert metrics["val_acc"] >= 0.80
    assert [s for s, _ in curve] == list(range(1, 9))  # one report per epoch, counted from 1
    assert metrics["val_acc"] == max(v for _, v in curve)
    assert 0.80 <= metrics["test_acc"] <= 1.0
    assert metrics["num_params"] == count_parameters(build_model("simple_cnn", ModelSpec(10, 1, 8)))


def test_simple_cnn_learns_the_cifar10_jpeg_subset(cifar_subset: Path) -> None:
    metrics = fit(
        {
            "dataset": "cifar10",
            "data_dir": str(cifar_subset),
            "model": "simple_cnn",
            "num_epochs": 6,
            "lr": 0.02,
            "momentum": 0.9,
            "batch_size": 64,
        }
    )
    # 10 classes: chance is 0.10. 1,800 training images and six epochs give well above it.
    assert metrics["val_acc"] > 0.25, metrics
    assert metrics["test_acc"] > 0.22, metrics


def test_same_params_and_seed_give_the_same_curve_on_cpu() -> None:
    params = {**DIGITS, "num_epochs": 3, "seed": 5}
    first, report1 = record()
    second, report2 = record()
    other, report3 = record()
    fit(params, report1)
    fit(params, report2)
    fit({**params, "seed": 6}, report3)
    assert first == second
    assert first != other


# -- early stopping -----------------------------------------------------------------------------


def test_early_stopping_stops_at_the_right_epoch_on_a_scripted_metric() -> None:
    scripted = [0.50, 0.60, 0.58, 0.61, 0.61, 0.60, 0.59, 0.70]
    stopper = EarlyStopping(patience=3)
    stopped_at = next(epoch for epoch, v in enumerate(scripted, 1) if stopper.update(v, epoch))
    # Best 0.61 at epoch 4; epochs 5, 6, 7 bring nothing better: stop after epoch 7.
    assert (stopped_at, stopper.best, stopper.best_epoch) == (7, 0.61, 4)
    never = EarlyStopping(patience=None)
    assert not any(never.update(v, e) for e, v in enumerate(scripted, 1))


def test_training_stops_early_and_keeps_the_best_weights(tmp_path: Path) -> None:
    # A learning rate this small leaves the model where it starts: nothing improves after
    # epoch 1, so patience 2 stops training after epoch 3.
    curve, report = record()
    metrics = fit({**DIGITS, "lr": 1e-9, "num_epochs": 10, "early_stopping_patience": 2}, report)
    assert metrics["epochs"] == 3 and len(curve) == 3
    assert metrics["best_epoch"] == 1 + [v for _, v in curve].index(max(v for _, v in curve))
    assert metrics["val_acc"] == max(v for _, v in curve)


# -- distillation -------------------------------------------------------------------------------


def test_kd_loss_is_hintons_formula() -> None:
    generator = torch.Generator().manual_seed(0)
    s = torch.randn(6, 5, generator=generator)
    t = torch.randn(6, 5, generator=generator)
    y = torch.tensor([0, 1, 2, 3, 4, 0])
    temperature, alpha = 4.0, 0.95
    p_t = torch.softmax(t / temperature, dim=1)
    kl = (p_t * (p_t.log() - torch.log_softmax(s / temperature, dim=1))).sum(dim=1).mean()
    expected = alpha * temperature**2 * kl + (1 - alpha) * F.cross_entropy(s, y)
    assert kd_loss(s, t, y, temperature, alpha).item() == pytest.approx(expected.item(), rel=1e-6)
    assert kd_loss(s, t, y, temperature, 0.0).item() == pytest.approx(
        F.cross_entropy(s, y).item(), rel=1e-6
    )


def test_a_teacher_checkpoint_changes_the_students_loss_as_specified(tmp_path: Path) -> None:
    # The test writes the teacher: a quickly trained CNN on digits, saved as a checkpoint.
    teacher = tmp_path / "teacher.pt"
    fit({**DIGITS, "num_epochs": 3, "checkpoint": str(teacher)})
    student = {**DIGITS, "model": "dw_student", "num_epochs": 3, "lr": 0.02, "seed": 3}
    plain, report_plain = record()
    alpha0, report0 = record()
    distilled, report_kd = record()
    fit(student, report_plain)
    # α = 0: the loss is the hard cross-entropy alone, so training is exactly the plain one.
    fit({**student, "teacher": str(teacher), "kd_alpha": 0.0}, report0)
    # α > 0: the teacher's soft targets enter the loss and the training differs.
    fit({**student, "teacher": str(teacher), "kd_alpha": 0.9, "kd_temperature": 2}, report_kd)
    assert alpha0 == plain
    assert distilled != plain


def test_a_missing_teacher_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"teacher checkpoint .*nope\.pt does not exist"):
        fit({**DIGITS, "teacher": str(tmp_path / "nope.pt"), "num_epochs": 1})


# -- transfer learning --------------------------------------------------------------------------


def test_transfer_learning_loads_a_local_weights_file_and_freezes_the_backbone(
    tmp_path: Path,
) -> None:
    # Weights of the same architecture trained for another task (5 classes, not 10).
    source = build_model("simple_cnn", ModelSpec(num_classes=5, in_channels=1, resolution=8))
    weights = tmp_path / "pretrained.pth"
    torch.save({"state_dict": source.state_dict()}, weights)
    out = tmp_path / "tuned.pt"
    fit(
        {
            **DIGITS,
            "num_epochs": 2,
            "pretrained": str(weights),
            "freeze_backbone": True,
            "checkpoint": str(out),
        }
    )
    tuned = torch.load(out, weights_only=True)["state_dict"]
    for name, tensor in source.state_dict().items():
        if name.startswith("head."):
            assert tuned[name].shape != tensor.shape  # a new classifier for 10 classes
        else:
            assert torch.equal(tuned[name], tensor), name  # loaded, then frozen


def test_transfer_learning_without_freezing_fine_tunes_everything(tmp_path: Path) -> None:
    source = build_model("simple_cnn", ModelSpec(num_classes=10, in_channels=1, resolution=8))
    weights = tmp_path / "pretrained.pth"
    torch.save(source.state_dict(), weights)
    out = tmp_path / "tuned.pt"
    fit({**DIGITS, "num_epochs": 1, "pretrained": str(weights), "checkpoint": str(out)})
    tuned = torch.load(out, weights_only=True)["state_dict"]
    assert not torch.equal(tuned["features.0.weight"], source.state_dict()["features.0.weight"])


def test_weights_of_another_architecture_are_refused(tmp_path: Path) -> None:
    weights = tmp_path / "resnet9.pth"
    torch.save(build_model("resnet9", ModelSpec(10, 1, 8)).state_dict(), weights)
    with pytest.raises(ValueError, match=r"no tensor in .* fits model simple_cnn"):
        fit({**DIGITS, "num_epochs": 1, "pretrained": str(weights)})


# -- models -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(MODELS))
def test_every_model_classifies_any_number_of_classes(name: str) -> None:
    resolution = 32
    model = build_model(name, ModelSpec(num_classes=7, in_channels=3, resolution=resolution)).eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, resolution, resolution))
    assert out.shape == (2, 7)


def test_parameter_counts_match_the_reports() -> None:
    # The fast ResNet-9 report: ResNet-9 has 6,573,120 trainable parameters at 10 classes (its
    # Keras head had no bias either). The compression report: the student had 256,779
    # parameters at 11 classes.
    assert count_parameters(build_model("resnet9", ModelSpec(10, 3, 32))) == 6_573_120
    student = count_parameters(build_model("dw_student", ModelSpec(11, 3, 32)))
    assert abs(student - 256_779) / 256_779 < 0.01, student


# -- data: loaders on tiny trees in the official layouts ----------------------------------------


def _jpeg(path: Path, size: tuple[int, int], colour: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    array = np.full((size[1], size[0], 3), colour, dtype=np.uint8)
    array[: size[1] // 2, :, 0] = 255 - colour
    Image.fromarray(array).save(path, quality=95)


def test_food11_loader_reads_the_official_layout_with_its_skewed_split(tmp_path: Path) -> None:
    root = tmp_path / "food11"
    for split, per_class in (
        ("training", 3),
        ("skewed_training", 1),
        ("validation", 2),
        ("evaluation", 2),
    ):
        for label in range(11):
            for n in range(per_class if split != "skewed_training" or label < 5 else 4):
                _jpeg(root / split / f"{label}_{n}.jpg", (40 + 7 * label, 30 + n), 10 * label)
    (root / "training" / "notes.txt").write_text("not an image")
    bundle = load_data(
        TrainConfig.from_params({"dataset": "food11", "data_dir": str(root), "resolution": 96})
    )
    assert bundle.num_classes == 11 and bundle.classes[0] == "Bread"
    assert bundle.train.images.shape == (33, 3, 110, 110)  # stored with a margin for crops
    assert bundle.val.images.shape == (22, 3, 110, 110) and bundle.test is not None
    assert torch.bincount(bundle.train.labels).tolist() == [3] * 11
    skewed = load_data(
        TrainConfig.from_params(
            {
                "dataset": "food11",
                "data_dir": str(root),
                "resolution": 96,
                "train_split": "skewed_training",
            }
        )
    )
    assert torch.bincount(skewed.train.labels).tolist() == [1] * 5 + [4] * 6


def _cifar_batch(path: Path, n: int, offset: int) -> tuple[np.ndarray, list[int]]:
    rng = np.random.default_rng(offset)
    images = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
    labels = [(i + offset) % 10 for i in range(n)]
    with path.open("wb") as f:
        pickle.dump(
            {"batch_label": path.name, "labels": labels, "data": images, "filenames": []}, f
        )
    return images, labels


def test_cifar10_loader_reads_the_official_python_pickles_exactly(tmp_path: Path) -> None:
    batches = tmp_path / "cifar-10-batches-py"
    batches.mkdir()
    train = [_cifar_batch(batches / f"data_batch_{i}", 20, i) for i in range(1, 6)]
    test_images, test_labels = _cifar_batch(batches / "test_batch", 10, 99)
    bundle = load_data(TrainConfig.from_params({"dataset": "cifar10", "data_dir": str(tmp_path)}))
    assert len(bundle.train) + len(bundle.val) == 100 and len(bundle.val) == 10  # 10 % carved
    assert bundle.test is not None
    assert torch.equal(bundle.test.images, torch.from_numpy(test_images.reshape(-1, 3, 32, 32)))
    assert bundle.test.labels.tolist() == test_labels
    everything = {
        tuple(img.flatten().tolist())
        for img in torch.cat([bundle.train.all_images(), bundle.val.all_images()])
    }
    expected = {tuple(row.tolist()) for images, _ in train for row in images}
    assert everything == expected


def test_cifar10_without_data_says_where_and_how(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"no CIFAR-10 in .*download=true"):
        load_data(TrainConfig.from_params({"dataset": "cifar10", "data_dir": str(tmp_path)}))
    with pytest.raises(DataError, match="is not a directory"):
        load_data(
            TrainConfig.from_params({"dataset": "cifar10", "data_dir": str(tmp_path / "missing")})
        )


def test_validation_split_is_stratified_and_deterministic(cifar_subset: Path) -> None:
    config = TrainConfig.from_params({"dataset": "cifar10", "data_dir": str(cifar_subset)})
    first = load_data(config)
    # 200 per class → 180 / 20, like the CIFAR-10 tuning report's 4,500 / 500.
    assert torch.bincount(first.train.labels).tolist() == [180] * 10
    assert torch.bincount(first.val.labels).tolist() == [20] * 10
    clear_memory_cache()
    again = load_data(config)
    assert torch.equal(first.val.all_images(), again.val.all_images())


def test_decoded_cache_is_built_once_and_reused(tmp_path: Path) -> None:
    root = tmp_path / "folder"
    for label in ("cat", "dog"):
        for n in range(120):
            _jpeg(root / "train" / label / f"{n}.jpg", (96, 80), n)
    config = TrainConfig.from_params(
        {
            "dataset": "imagefolder",
            "data_dir": str(root),
            "resolution": 64,
            "cache_dir": str(tmp_path / "cache"),
        }
    )
    before = DECODE_STATS["images"]
    first = load_data(config)
    assert DECODE_STATS["images"] - before == 240
    assert len(list((tmp_path / "cache" / "datasets").glob("imagefolder-64px-*.pt"))) == 1

    clear_memory_cache()  # as a new worker process on the same machine
    second = load_data(config)
    # Nothing decoded again (the time it saves is for a benchmark, not a timed unit test).
    assert DECODE_STATS["images"] - before == 240
    assert torch.equal(first.train.images, second.train.images)

    third = load_data(config)  # the same process: the tensors already in memory
    assert third.train.images.data_ptr() == second.train.images.data_ptr()


def test_changed_files_invalidate_the_cache(tmp_path: Path) -> None:
    root = tmp_path / "folder"
    for n in range(4):
        _jpeg(root / "train" / "a" / f"{n}.jpg", (32, 32), n)
        _jpeg(root / "train" / "b" / f"{n}.jpg", (32, 32), 100 + n)
    config = TrainConfig.from_params(
        {"dataset": "imagefolder", "data_dir": str(root), "resolution": 32}
    )
    assert len(load_data(config).train) + len(load_data(config).val) == 8
    _jpeg(root / "train" / "a" / "extra.jpg", (32, 32), 7)
    clear_memory_cache()
    bundle = load_data(config)
    assert len(bundle.train) + len(bundle.val) == 9


def test_class_balanced_sampling_evens_out_a_skewed_training_set(tmp_path: Path) -> None:
    root = tmp_path / "skewed"
    for n in range(90):
        _jpeg(root / "train" / "common" / f"{n}.jpg", (16, 16), 200)
    for n in range(10):
        _jpeg(root / "train" / "rare" / f"{n}.jpg", (16, 16), 20)
    base = {
        "dataset": "imagefolder",
        "data_dir": str(root),
        "resolution": 16,
        "model": "simple_cnn",
        "num_epochs": 1,
        "lr": 0.01,
        "augment": False,
    }
    config = TrainConfig.from_params({**base, "balance": "weighted"})
    from training.loop import _Trainer

    trainer = _Trainer(config, lambda v, s: None)
    trainer.data = load_data(config)
    trainer.generator = torch.Generator().manual_seed(0)
    train = trainer.data.train
    order = trainer._epoch_order(len(train), trainer._class_weights(train))
    share = (train.labels[order] == 1).float().mean().item()  # label 1 = "rare"
    assert 0.4 < share < 0.6, share
    assert fit({**base, "balance": "weighted"})["val_acc"] >= 0


# -- config --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"learning_rate": 0.1}, "unknown training param 'learning_rate'; did you mean 'lr'?"),
        ({"optimizer": "rmsprop"}, "optimizer must be one of sgd, sgdw, adam, adamw"),
        ({"batch_size": 0}, "batch_size must be > 0"),
        ({"num_epochs": 2.5}, "num_epochs must be an integer"),
        ({"momentum": 1.0}, "momentum must be in [0.0, 1.0)"),
        ({"milestones": [30, 10]}, "milestones must increase"),
        ({"freeze_backbone": True}, "freeze_backbone needs pretrained"),
        ({"kd_alpha": 0.5}, "kd_alpha needs a teacher (teacher: a checkpoint file)"),
        ({"kd_temperature": 2, "teacher": None}, "kd_temperature needs a teacher"),
    ],
)
def test_bad_params_are_refused_with_their_name(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        TrainConfig.from_params(params)
    assert message in str(info.value)


def test_quantised_params_arrive_as_integers() -> None:
    assert TrainConfig.from_params({"num_epochs": 12.0, "warmup_period": 25.0}).num_epochs == 12


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_training_keeps_the_data_on_the_device() -> None:
    metrics = fit({**DIGITS, "device": "cuda"})
    assert metrics["val_acc"] >= 0.90
    bundle = load_data(TrainConfig.from_params(DIGITS), torch.device("cuda"))
    assert bundle.train.images.is_cuda and bundle.train.images.dtype == torch.uint8


def test_data_module_has_no_per_image_python_in_training() -> None:
    # The loop indexes tensors: the data set object it trains from is a pair of tensors.
    split = load_data(TrainConfig()).train
    assert isinstance(split.images, torch.Tensor) and split.images.dtype == torch.uint8
    fields = {"images", "labels", "rows", "aspect", "host"}  # host: HostBatches, batched too
    assert data_module.Split.__dataclass_fields__.keys() == fields
