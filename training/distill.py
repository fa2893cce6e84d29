"""Knowledge distillation: a frozen teacher from a checkpoint and Hinton's loss.

loss = α·T²·KL(softmax(z_t / T) ‖ softmax(z_s / T)) + (1 − α)·CE(z_s, y)

with temperature T = ``kd_temperature`` and weight α = ``kd_alpha`` (the Food-11 report's λ = 0.95).
The T² keeps the soft term's gradients on the scale of the hard one.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from training.models import ModelError, ModelSpec, build_model, read_state_dict

CHECKPOINT_FORMAT = "hpo-training-checkpoint"


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


def save_checkpoint(
    path: str, model: nn.Module, model_name: str, spec: ModelSpec, **info: object
) -> None:
    """A checkpoint that names its architecture, so it can serve as a teacher as is."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    torch.save(
        {
            "format": CHECKPOINT_FORMAT,
            "model": model_name,
            "num_classes": spec.num_classes,
            "in_channels": spec.in_channels,
            "resolution": spec.resolution,
            "width": spec.width,
            "state_dict": state,
            **info,
        },
        path,
    )


def load_teacher(
    path: str, model_name: str | None, spec: ModelSpec, device: torch.device
) -> nn.Module:
    """The teacher network in eval mode with frozen weights.

    A checkpoint written by training names its model; for a bare weights file,
    ``teacher_model`` must name it.
    """
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise FileNotFoundError(f"teacher checkpoint {path} does not exist") from None
    if isinstance(data, dict) and data.get("format") == CHECKPOINT_FORMAT:
        name = model_name or str(data["model"])
        spec = ModelSpec(
            num_classes=int(data["num_classes"]),
            in_channels=int(data["in_channels"]),
            resolution=spec.resolution,
            width=float(data.get("width", 1.0)),
        )
        state = data["state_dict"]
    else:
        if model_name is None:
            raise ModelError(f"{path} does not name its architecture: set teacher_model")
        name, state = model_name, read_state_dict(path)
    teacher = build_model(name, spec)
    try:
        teacher.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise ModelError(f"teacher {path} does not fit model {name}: {first}") from None
    teacher.eval().requires_grad_(False)
    return teacher.to(device)
