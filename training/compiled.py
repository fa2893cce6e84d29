"""``compile: true``: the model through ``torch.compile``, kept warm across trials.

Compiling costs seconds to a minute (tracing, then Inductor's kernels), a large share of a
trial of a few seconds. A worker is a long-lived process that runs trial after trial of one
study, mostly with the same model and shapes, so the compiled model is kept in a small
cache of this process and the next trial of the same graph trains it again instead of
compiling anew.

What is kept is the compiled *module object* itself, not only its code: ``torch.compile``'s
guards (parameter shapes, dtypes, strides, ``requires_grad``, train / eval mode) then hold
by construction, so nothing is recompiled, and a trial gets its own weights by copying a
freshly built model's state into the kept module (``load_state_dict`` copies values into
the same parameter tensors; buffers such as BatchNorm's running statistics are reset with
them). The fresh model is built from the trial's seed exactly as without ``compile``, so a
trial starts from the same weights either way. Rebuilding the compiled module per trial and
relying on PyTorch's own caches would also often avoid the work, but not always (guards on
module identity, a limit of recompilations per function shared by every instance of a
class), and would not say what it saved.

The key is what determines the graph: the model (its name, its spec, the class, the name,
shape, dtype and ``requires_grad`` of every parameter and buffer, which covers width and a
pruned network's channels), the layers kept in eval mode while training (a frozen
backbone), the shapes of the training batch and of every evaluation batch, the device,
the memory format, the autocast dtype and test-time augmentation. An entry is taken out of
the cache while a trial uses it and put back at its end, so two trials in one process never
share one. ``compile_seconds`` is what the warm-up (one training step and one evaluation
batch of each shape, on zeros, before the trial's own steps) took on a cache miss;
``compile_saved_seconds`` is, on a hit, what compiling that entry cost when it was made.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from training.airbench import flip_translate_logits
from training.models import train_mode

log = logging.getLogger("training.compiled")

#: Compiled models kept per process (each holds its weights on the device, and its code).
KEPT = 4

Net = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Shapes:
    """What a trial feeds the model: its training batch and its evaluation batches."""

    train: tuple[int, ...]  # N×C×H×W of every training step
    eval_sizes: tuple[int, ...]  # the batch sizes of evaluation (full and last batches)
    device: torch.device
    autocast: bool  # bfloat16 autocast (on CUDA)
    channels_last: bool
    tta: bool


@dataclass
class Compiled:
    """A compiled model kept warm: ``module`` is the plain model, ``net`` the compiled one
    over the same parameters."""

    key: Hashable
    module: nn.Module
    net: Net
    compile_seconds: float  # what compiling it cost, the first time
    reused: bool = False  # this trial got it from the cache

    @property
    def seconds(self) -> float:
        """Compile seconds this trial spent."""
        return 0.0 if self.reused else self.compile_seconds

    @property
    def saved(self) -> float:
        """Compile seconds this trial did not spend, thanks to the cache."""
        return self.compile_seconds if self.reused else 0.0


_KEPT: OrderedDict[Hashable, Compiled] = OrderedDict()
_LOCK = threading.Lock()


def graph_key(
    name: str, spec: Hashable, model: nn.Module, frozen: Sequence[nn.Module], shapes: Shapes
) -> Hashable:
    """What determines the compiled graph (see the module's docstring)."""
    tensors = tuple(
        (key, tuple(t.shape), str(t.dtype), t.requires_grad)
        for key, t in [*model.named_parameters(), *model.named_buffers()]
    )
    names = {id(m): key for key, m in model.named_modules()}
    return (
        name,
        spec,
        f"{type(model).__module__}.{type(model).__qualname__}",
        tensors,
        tuple(names[id(m)] for m in frozen),
        shapes.train,
        shapes.eval_sizes,
        str(shapes.device),
        shapes.autocast,
        shapes.channels_last,
        shapes.tta,
    )


def acquire(
    name: str, spec: Hashable, model: nn.Module, frozen: list[nn.Module], shapes: Shapes
) -> tuple[Compiled, list[nn.Module]]:
    """A compiled model holding ``model``'s weights, and ``frozen``'s layers in it.

    ``model`` is the trial's model, fully prepared (on the device, weights initialised or
    loaded). From the cache when a kept one has the same graph, else ``model`` compiled and
    warmed up (the compiling happens then). Give it back with ``release``.
    """
    key = graph_key(name, spec, model, frozen, shapes)
    with _LOCK:
        entry = _KEPT.pop(key, None)
    if entry is None:
        state = {k: v.clone() for k, v in model.state_dict().items()}
        started = time.perf_counter()  # the first torch.compile of a process imports its stack
        net: Net = torch.compile(model)
        _warm_up(model, net, frozen, shapes)
        entry = Compiled(key, model, net, time.perf_counter() - started)
        model.load_state_dict(state)  # the warm-up's step changed BatchNorm's statistics
        log.info(
            "compiled %s in %.1f s (kept warm for the next trials of the same shapes)",
            name,
            entry.compile_seconds,
        )
    else:
        entry.reused = True
        entry.module.load_state_dict(model.state_dict())
        log.info("compiled %s reused: %.1f s of compiling saved", name, entry.compile_seconds)
    for p in entry.module.parameters():
        p.grad = None
    modules = dict(entry.module.named_modules())
    names = {id(m): key for key, m in model.named_modules()}
    return entry, [modules[names[id(m)]] for m in frozen]


def release(entry: Compiled) -> None:
    """Keep ``entry`` for the next trial (the least recently used one goes beyond ``KEPT``)."""
    entry.reused = False
    with _LOCK:
        _KEPT[entry.key] = entry
        _KEPT.move_to_end(entry.key)
        while len(_KEPT) > KEPT:
            _KEPT.popitem(last=False)


def clear() -> None:
    """Forget every kept model (as a new worker process would start)."""
    with _LOCK:
        _KEPT.clear()


def _warm_up(model: nn.Module, net: Net, frozen: list[nn.Module], shapes: Shapes) -> None:
    """Run ``net`` as the trial will (a training step, then evaluation batches of every
    size), on zeros, so that compiling happens here, timed, and not inside the trial."""
    devices = [shapes.device] if shapes.device.type == "cuda" else []
    memory = torch.channels_last if shapes.channels_last else torch.contiguous_format

    def zeros(shape: tuple[int, ...]) -> torch.Tensor:
        x = torch.zeros(shape, device=shapes.device)
        return x.contiguous(memory_format=memory)

    with torch.random.fork_rng(devices=devices):  # dropout must not move the trial's RNG
        train_mode(model, frozen)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=shapes.autocast):
            logits = net(zeros(shapes.train))
        logits.float().sum().backward()  # type: ignore[no-untyped-call]
        model.eval()
        with torch.no_grad():
            for size in shapes.eval_sizes:
                x = zeros((size, *shapes.train[1:]))
                with torch.autocast("cuda", dtype=torch.bfloat16, enabled=shapes.autocast):
                    flip_translate_logits(net, x) if shapes.tta else net(x)
    if shapes.device.type == "cuda":
        torch.cuda.synchronize(shapes.device)
