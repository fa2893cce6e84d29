"""Transfer learning and distillation recipes: what each model is fed, what stays frozen."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from training import fit
from training.config import TrainConfig
from training.loop import _Trainer
from training.models import ModelSpec, build_model

DIGITS = {"dataset": "digits", "lr": 0.05, "momentum": 0.9, "batch_size": 64}


def setup_trainer(params: dict[str, object]) -> _Trainer:
    trainer = _Trainer(TrainConfig.from_params(params), lambda value, epoch: None)
    trainer.setup()
    return trainer


def test_a_checkpoint_stores_the_input_statistics_it_was_trained_with(tmp_path: Path) -> None:
    path = tmp_path / "cnn.pt"
    fit({**DIGITS, "model": "simple_cnn", "num_epochs": 1, "checkpoint": str(path)})
    stored = torch.load(path, weights_only=True)
    data = setup_trainer({**DIGITS, "model": "simple_cnn"}).data
    assert stored["mean"] == pytest.approx(data.mean.flatten().tolist())
    assert stored["std"] == pytest.approx(data.std.flatten().tolist())


def test_the_teacher_is_fed_its_own_normalisation(tmp_path: Path) -> None:
    # The teacher: a 1-channel CNN trained on grey digits with their own statistics. The
    # student: an RGB ResNet-18 fine-tuned from "ImageNet" weights, so it is fed ImageNet's
    # statistics on the repeated grey channel. Seen through the student's input, the teacher
    # must classify exactly as it did when it was trained.
    teacher = tmp_path / "teacher.pt"
    taught = fit(
        {**DIGITS, "model": "simple_cnn", "resolution": 32, "num_epochs": 3,
         "checkpoint": str(teacher)}
    )  # fmt: skip
    assert taught["val_acc"] > 0.5
    weights = tmp_path / "imagenet-like.pth"
    torch.save(build_model("resnet18", ModelSpec(1000, 3, 32)).state_dict(), weights)
    student = setup_trainer(
        {**DIGITS, "model": "resnet18", "resolution": 32, "pretrained": str(weights),
         "teacher": str(teacher), "kd_alpha": 0.5}
    )  # fmt: skip
    assert student.stats[0].flatten().tolist() == pytest.approx([0.485, 0.456, 0.406])
    assert student.teacher is not None
    val = student.data.val
    with torch.no_grad():
        predicted = student.teacher(student.inputs.eval(val, val.positions(0, len(val)))).argmax(1)
    accuracy = (predicted == val.labels).float().mean().item()
    assert accuracy == pytest.approx(taught["val_acc"], abs=1.5 / len(val))


def test_grey_images_train_a_pretrained_rgb_model(tmp_path: Path) -> None:
    # Once: "input[64, 9, 32, 32]": the 3-channel mean broadcast, then the channels repeated.
    weights = tmp_path / "resnet18.pth"
    torch.save(build_model("resnet18", ModelSpec(1000, 3, 32)).state_dict(), weights)
    metrics = fit(
        {**DIGITS, "model": "resnet18", "resolution": 32, "pretrained": str(weights),
         "num_epochs": 1, "subset_per_class": 20, "lr": 0.01}
    )  # fmt: skip
    assert 0.0 <= metrics["val_acc"] <= 1.0 and metrics["epochs"] == 1


def test_a_frozen_backbone_keeps_its_batch_norm_statistics(tmp_path: Path) -> None:
    source = build_model("dw_student", ModelSpec(num_classes=5, in_channels=1, resolution=8))
    generator = torch.Generator().manual_seed(0)
    for name, tensor in source.state_dict().items():  # statistics a real network would have
        if name.endswith(("running_mean", "running_var")):
            tensor.copy_(torch.rand(tensor.shape, generator=generator) + 0.5)
    weights = tmp_path / "student.pth"
    torch.save(source.state_dict(), weights)
    out = tmp_path / "tuned.pt"
    fit(
        {**DIGITS, "model": "dw_student", "num_epochs": 1, "pretrained": str(weights),
         "freeze_backbone": True, "checkpoint": str(out)}
    )  # fmt: skip
    tuned = torch.load(out, weights_only=True)["state_dict"]
    changed = [
        name
        for name, tensor in source.state_dict().items()
        if not name.startswith("head.") and not torch.equal(tuned[name], tensor)
    ]
    assert changed == []
