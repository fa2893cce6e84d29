"""Knowledge distillation: a frozen teacher from a checkpoint and Hinton's loss.

loss = α·T²·KL(softmax(z_t / T) ‖ softmax(z_s / T)) + (1 − α)·CE(z_s, y)

with temperature T = ``kd_temperature`` and weight α = ``kd_alpha`` (the Food-11 report's λ = 0.95).
The T² keeps the soft term's gradients on the scale of the hard one.

The teacher sees its own normalisation: a teacher fine-tuned from ImageNet weights is fed
ImageNet-standardised images even when the student is fed the data set's statistics.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from training.checkpoint import read_checkpoint, save_checkpoint
from training.models import ModelError, ModelSpec, build_model, read_state_dict

__all__ = ["TeacherView", "kd_loss", "load_teacher", "save_checkpoint"]


def kd_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    targets: torch.Tensor,
    temperature: float,
    alpha: float,
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    hard = F.cross_entropy(student_logits, targets, label_smoothing=label_smoothing)
    soft = F.kl_div(
        F.log_softmax(student_logits / temperature, dim=1),
        F.log_softmax(teacher_logits / temperature, dim=1),
        reduction="batchmean",
        log_target=True,
    )
    return alpha * temperature * temperature * soft + (1.0 - alpha) * hard


class TeacherView(nn.Module):
    """The teacher, called with the *student's* input: it undoes the student's normalisation,
    adapts the channels and applies the teacher's own."""

    student_mean: torch.Tensor
    student_std: torch.Tensor
    mean: torch.Tensor
    std: torch.Tensor

    def __init__(
        self,
        teacher: nn.Module,
        student: tuple[torch.Tensor, torch.Tensor],
        own: tuple[torch.Tensor, torch.Tensor],
        data_channels: int,
    ) -> None:
        super().__init__()
        self.teacher = teacher
        self.register_buffer("student_mean", student[0].clone())
        self.register_buffer("student_std", student[1].clone())
        self.register_buffer("mean", own[0].clone())
        self.register_buffer("std", own[1].clone())
        self.data_channels = data_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pixels = x * self.student_std + self.student_mean
        wanted = int(self.mean.shape[0])
        if pixels.shape[1] != wanted:  # e.g. grey images: the student RGB, the teacher not
            pixels = pixels[:, : self.data_channels].repeat(1, wanted // self.data_channels, 1, 1)
        out: torch.Tensor = self.teacher((pixels - self.mean) / self.std)
        return out


def load_teacher(
    path: str,
    model_name: str | None,
    spec: ModelSpec,
    student_stats: tuple[torch.Tensor, torch.Tensor],
    data_channels: int,
    device: torch.device,
) -> nn.Module:
    """The teacher network in eval mode with frozen weights, fed its own normalisation.

    A checkpoint written by training names its model and its input statistics; for a bare
    weights file, ``teacher_model`` must name the model, and it is fed the student's
    statistics (as is a checkpoint from before statistics were stored).
    """
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise FileNotFoundError(f"teacher checkpoint {path} does not exist") from None
    checkpoint = read_checkpoint(data)
    own: tuple[torch.Tensor, torch.Tensor] | None = None
    if checkpoint is not None:
        name = model_name or checkpoint.model
        spec = ModelSpec(
            checkpoint.num_classes, checkpoint.in_channels, spec.resolution, checkpoint.width
        )
        state = checkpoint.state_dict
        if checkpoint.mean is not None and checkpoint.std is not None:
            own = (checkpoint.mean, checkpoint.std)
    else:
        if model_name is None:
            raise ModelError(f"{path} does not name its architecture: set teacher_model")
        name, state = model_name, read_state_dict(path)
    if spec.in_channels % data_channels:
        raise ModelError(
            f"teacher {path} takes {spec.in_channels}-channel input; the data has {data_channels}"
        )
    if own is None:  # no statistics stored: the student's, on the teacher's channels
        repeat = spec.in_channels // data_channels
        own = (
            student_stats[0][:data_channels].repeat(repeat, 1, 1),
            student_stats[1][:data_channels].repeat(repeat, 1, 1),
        )
    teacher = build_model(name, spec)
    try:
        teacher.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise ModelError(f"teacher {path} does not fit model {name}: {first}") from None
    view = TeacherView(teacher, student_stats, own, data_channels)
    view.eval().requires_grad_(False)
    return view.to(device)
