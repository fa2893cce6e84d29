"""Models of the course reports, by name: any number of classes, any input size.

- ``simple_cnn``: the CIFAR-10 tuning report's three conv + pool blocks, a 500-unit layer and
  dropout 0.3.
- ``resnet9``: the fast ResNet-9 report's "DavidNet" (prep, three layers, two residual blocks,
  max-pool head scaled by 0.125) as in "How to train your ResNet".
- ``resnet18``, ``resnet50``, ``mobilenet_v2``: torchvision's, with a new classifier.
- ``dw_student``: the compression report's depthwise-separable student (channels 16, 32, 64,
  128, 256 × 4) times ``width``.
- ``airbench``: the design of the fastest public CIFAR-10 recipes (``training.airbench``).

Each model names its classifier ``head`` (what transfer learning replaces and what a frozen
backbone leaves trainable).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from training.airbench import AirbenchNet, init_whitening


@dataclass(frozen=True)
class ModelSpec:
    num_classes: int
    in_channels: int
    resolution: int
    width: float = 1.0


@dataclass(frozen=True)
class ModelKind:
    name: str
    build: Callable[[ModelSpec], nn.Module]
    head: str  # attribute path of the classifier
    channels: int | None = None  # input channels it needs (None: any)
    min_resolution: int = 8
    # Set up from normalised training images before training (airbench's whitening layer).
    data_init: Callable[[nn.Module, torch.Tensor], None] | None = None


class SimpleCNN(nn.Module):
    """The CIFAR-10 tuning report's network; the first linear layer adapts to the input size."""

    def __init__(self, s: ModelSpec) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(s.in_channels, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )  # fmt: skip
        side = s.resolution // 8
        self.flat = nn.Flatten()
        self.hidden = nn.Sequential(
            nn.Dropout(0.3), nn.Linear(64 * side * side, 500), nn.ReLU(), nn.Dropout(0.3)
        )
        self.head = nn.Linear(500, s.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.head(self.hidden(self.flat(self.features(x))))
        return out


def _conv_bn(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class _Residual(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(_conv_bn(channels, channels), _conv_bn(channels, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = x + self.body(x)
        return out


class ResNet9(nn.Module):
    """DavidNet: 6.57 M parameters at 10 classes, as the fast ResNet-9 report counted."""

    def __init__(self, s: ModelSpec) -> None:
        super().__init__()
        self.features = nn.Sequential(
            _conv_bn(s.in_channels, 64),
            _conv_bn(64, 128), nn.MaxPool2d(2), _Residual(128),
            _conv_bn(128, 256), nn.MaxPool2d(2),
            _conv_bn(256, 512), nn.MaxPool2d(2), _Residual(512),
            nn.AdaptiveMaxPool2d(1), nn.Flatten(),
        )  # fmt: skip
        self.head = nn.Linear(512, s.num_classes, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # The 0.125 output scale of the original keeps early logits small.
        out: torch.Tensor = self.head(self.features(x)) * 0.125
        return out


class DWStudent(nn.Module):
    """The compression report's student: a plain conv, then depthwise + pointwise blocks."""

    BANDWIDTH = (16, 32, 64, 128, 256, 256, 256, 256)

    def __init__(self, s: ModelSpec, bandwidth: Sequence[int] | None = None) -> None:
        super().__init__()
        # ``bandwidth``: the channels of each block as they are (a pruned network).
        b = list(bandwidth or [max(4, round(c * s.width)) for c in self.BANDWIDTH])
        self.bandwidth = tuple(b)
        layers: list[nn.Module] = [
            nn.Conv2d(s.in_channels, b[0], 3, 1, 1),
            nn.BatchNorm2d(b[0]),
            nn.ReLU6(),
            nn.MaxPool2d(2),
        ]
        side = s.resolution // 2
        for i in range(1, len(b)):
            layers += [
                nn.Conv2d(b[i - 1], b[i - 1], 3, 1, 1, groups=b[i - 1]),
                nn.BatchNorm2d(b[i - 1]),
                nn.ReLU6(),
                nn.Conv2d(b[i - 1], b[i], 1),
            ]
            if i <= 3 and side >= 2:  # pool while the image is large enough
                layers.append(nn.MaxPool2d(2))
                side //= 2
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(b[-1], s.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.head(self.features(x))
        return out


def _torchvision(name: str) -> Callable[[ModelSpec], nn.Module]:
    def build(s: ModelSpec) -> nn.Module:
        import torchvision.models as tvm

        model: nn.Module
        if name == "mobilenet_v2":
            model = tvm.mobilenet_v2(weights=None, num_classes=s.num_classes, width_mult=s.width)
        else:
            model = getattr(tvm, name)(weights=None, num_classes=s.num_classes)
        return model

    return build


MODELS: dict[str, ModelKind] = {
    k.name: k
    for k in (
        ModelKind("simple_cnn", SimpleCNN, "head"),
        ModelKind("resnet9", ResNet9, "head"),
        ModelKind("dw_student", DWStudent, "head", min_resolution=2),
        ModelKind("airbench", AirbenchNet, "head", min_resolution=16, data_init=init_whitening),
        ModelKind("resnet18", _torchvision("resnet18"), "fc", channels=3, min_resolution=32),
        ModelKind("resnet50", _torchvision("resnet50"), "fc", channels=3, min_resolution=32),
        ModelKind(
            "mobilenet_v2",
            _torchvision("mobilenet_v2"),
            "classifier",
            channels=3,
            min_resolution=32,
        ),
    )
}


class ModelError(ValueError):
    pass


def model_kind(name: str) -> ModelKind:
    try:
        return MODELS[name]
    except KeyError:
        raise ModelError(f"unknown model {name!r}; known: {', '.join(MODELS)}") from None


def build_model(name: str, spec: ModelSpec) -> nn.Module:
    kind = model_kind(name)
    if spec.resolution < kind.min_resolution:
        raise ModelError(
            f"model {name} needs inputs of at least {kind.min_resolution} px, got {spec.resolution}"
        )
    return kind.build(spec)


def input_channels(name: str, data_channels: int) -> int:
    """The channels the model is built for (grey images are repeated for RGB-only models)."""
    needed = model_kind(name).channels
    return data_channels if needed is None else needed


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def head_module(model: nn.Module, name: str) -> nn.Module:
    module: nn.Module = model
    for part in model_kind(name).head.split("."):
        module = getattr(module, part)
    return module


def load_pretrained(model: nn.Module, name: str, path: str) -> tuple[int, list[str]]:
    """Load a local weights file; layers whose shape differs (the classifier, when the class
    count changes) keep their fresh initialisation. Returns (tensors loaded, skipped names)."""
    state = read_state_dict(path)
    own = model.state_dict()
    usable = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    skipped = sorted(k for k in state if k not in usable)
    if not usable:
        raise ModelError(f"no tensor in {path} fits model {name} (is it a {name} weights file?)")
    model.load_state_dict(usable, strict=False)
    return len(usable), skipped


def read_state_dict(path: str) -> dict[str, torch.Tensor]:
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise FileNotFoundError(f"weights file {path} does not exist") from None
    except Exception as exc:
        raise ModelError(f"cannot read weights file {path}: {exc}") from None
    if isinstance(data, dict):
        for key in ("state_dict", "model_state_dict", "model_state"):
            if isinstance(data.get(key), dict):
                data = data[key]
                break
    if not isinstance(data, dict) or not all(isinstance(v, torch.Tensor) for v in data.values()):
        raise ModelError(f"{path} holds no state dict")
    # Checkpoints saved from DataParallel / torch.compile prefix every name.
    return {k.removeprefix("module.").removeprefix("_orig_mod."): v for k, v in data.items()}


def freeze_backbone(model: nn.Module, name: str) -> list[nn.Module]:
    """Leave only the classifier trainable; returns the backbone's normalisation layers,
    which must stay in eval mode (``train_mode``): in train mode BatchNorm would keep
    updating its running statistics, so a "frozen" backbone would still change."""
    for p in model.parameters():
        p.requires_grad_(False)
    head = head_module(model, name)
    for p in head.parameters():
        p.requires_grad_(True)
    in_head = {id(m) for m in head.modules()}
    return [
        m
        for m in model.modules()
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and id(m) not in in_head
    ]


def train_mode(model: nn.Module, frozen: list[nn.Module]) -> None:
    """``model.train()``, except for the layers of a frozen backbone."""
    model.train()
    for module in frozen:
        module.eval()
