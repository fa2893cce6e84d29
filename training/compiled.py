"""``compile: true``: the model through ``torch.compile``, kept warm across trials.

Compiling costs seconds to a minute (tracing, then Inductor's kernels), a large share of a
trial of a few seconds. A worker is a long-lived process that runs trial after trial of one
study, mostly with the same model and shapes, so the compiled model is kept in a small
cache of this process and the next trial of the same graph trains it again instead of
compiling anew.

What is kept is the compiled *module object* itself, not only its code: its parameters keep
their shapes, dtypes and strides, so the graphs compiled for it still match it, and a trial
gets its own weights by copying a freshly built model's state into the kept module
(``load_state_dict`` copies values into the same parameter tensors; buffers such as
BatchNorm's running statistics are reset with them). The fresh model is built from the
trial's seed exactly as without ``compile``, so a trial starts from the same weights either
way. Its ``.grad`` tensors are dropped when a trial gives it back, so a kept model holds its
weights on the device, not its gradients.

Dynamo keeps its compiled code per *code object*, not per module: every instance of a model
class shares one list of graphs, on the class's ``forward``. Modules are not told apart by
identity (``inline_inbuilt_nn_modules``): a graph is guarded on the parameters' shapes (kept
static), so another width is another graph in the same list, and a module dropped from this
cache leaves its graphs there until Dynamo's caches are emptied. Dynamo's
``recompile_limit`` (8 by default) caps that list; past it Dynamo stops compiling the
function, for every instance, and runs it eagerly without an error. One model takes several
graphs (``dw_student`` with test-time augmentation on the CPU: three, for training,
evaluation, and evaluation of the shifted views, whose strides differ), so in a search over
width the third width in a worker reached 8. Hence:

- on its first compile this module raises the limit to ``GRAPHS`` (it never lowers it);
- the frames Dynamo compiled since its caches were last emptied are counted
  (``counters["frames"]["ok"]``, every function together: at least what any one function's
  list holds). Before a new model is compiled, when that count plus the most frames one model
  has taken would pass the limit, Dynamo's caches are emptied (``torch._dynamo.reset()``) and
  the kept models are dropped with them (their code is gone: they would compile again inside
  a trial, untimed);
- a fall-back is still caught: Dynamo failing to compile a frame (``counters["frames"]``,
  ``total`` above ``ok``) in the warm-up, with other models' graphs in its lists, empties its
  caches and compiles the model once more; failing again, or with nothing else compiled, it
  is a warning and ``Compiled.fell_back``. In a trial it sets ``Compiled.fell_back``, logs a
  warning, and empties the caches when the trial gives the model back, so that the next
  trials compile again.

The key is what determines the graph: the model (its name, its spec, the class, the name,
shape, dtype and ``requires_grad`` of every parameter and buffer, which covers width and a
pruned network's channels), the layers kept in eval mode while training (a frozen
backbone), the shapes of the training batch and of every evaluation batch, the device,
the memory format, the autocast dtype and test-time augmentation. An entry is taken out of
the cache while a trial uses it and put back at its end, so two trials in one process never
share one. ``compile_seconds`` is what the ``torch.compile`` call and the warm-up (one
training step and one evaluation batch of each shape, on zeros, before the trial's own
steps) took on a cache miss; ``compile_saved_seconds`` is, on a hit, what compiling that
entry cost when it was made. ``forget_all`` drops every kept model (a worker's way back
after running out of device memory).
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
#: Dynamo's recompile limit while models are compiled here: the graphs one function (a
#: model class's ``forward``) may hold, kept models and dropped ones together.
GRAPHS = 64

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
    name: str
    module: nn.Module
    net: Net
    compile_seconds: float  # what compiling it cost, the first time
    generation: int  # Dynamo's caches emptied this many times before it was compiled
    warm_up_fell_back: bool = False  # Dynamo failed a frame even with its caches emptied
    reused: bool = False  # this trial got it from the cache
    failed_at: int = 0  # frames Dynamo had failed to compile when this trial got it

    @property
    def seconds(self) -> float:
        """Compile seconds this trial spent."""
        return 0.0 if self.reused else self.compile_seconds

    @property
    def saved(self) -> float:
        """Compile seconds this trial did not spend, thanks to the cache."""
        return self.compile_seconds if self.reused else 0.0

    @property
    def fell_back(self) -> bool:
        """Part of the model ran eagerly: Dynamo failed to compile a frame in its warm-up
        (even after its caches were emptied) or since this trial got it."""
        return self.warm_up_fell_back or _frames()[1] > self.failed_at


_KEPT: OrderedDict[Hashable, Compiled] = OrderedDict()
_LOCK = threading.Lock()
_GENERATION = 0  # times Dynamo's caches were emptied here
_OK_AT_RESET = 0  # Dynamo's frames compiled when its caches were last emptied
_MOST = 0  # the most frames one model's warm-up compiled


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
        entry = _compile(key, name, model, frozen, shapes)
    else:
        entry.reused = True
        entry.module.load_state_dict(model.state_dict())
        log.info("compiled %s reused: %.1f s of compiling saved", name, entry.compile_seconds)
    for p in entry.module.parameters():
        p.grad = None
    entry.failed_at = _frames()[1]
    modules = dict(entry.module.named_modules())
    names = {id(m): key for key, m in model.named_modules()}
    return entry, [modules[names[id(m)]] for m in frozen]


def release(entry: Compiled) -> None:
    """Keep ``entry`` for the next trial (the least recently used one goes beyond ``KEPT``),
    without its gradients. One that fell back to eager in the trial is not kept, and
    Dynamo's caches are emptied so that the next trials compile again."""
    for p in entry.module.parameters():
        p.grad = None
    fell_back = not entry.warm_up_fell_back and entry.fell_back
    entry.reused = False
    if fell_back:
        log.warning(
            "compiled %s fell back to eager during the trial (Dynamo failed to compile a"
            " frame: its recompile limit?); not kept, and Dynamo's caches emptied",
            entry.name,
        )
        _reset("a fall-back to eager")
        return
    with _LOCK:
        if entry.generation != _GENERATION:
            return  # Dynamo's caches were emptied while it was in use: its code is gone
        _KEPT[entry.key] = entry
        _KEPT.move_to_end(entry.key)
        while len(_KEPT) > KEPT:
            _KEPT.popitem(last=False)  # its graphs stay in Dynamo's lists until a reset


def forget_all() -> None:
    """Drop every kept model and empty Dynamo's caches, as a new worker process would
    start. A worker calls this after a trial ran out of device memory: kept models hold
    their weights on the device."""
    _reset("every kept model forgotten")
    torch.cuda.empty_cache()  # a no-op where CUDA was never used


def _compile(
    key: Hashable, name: str, model: nn.Module, frozen: list[nn.Module], shapes: Shapes
) -> Compiled:
    """``model`` compiled and warmed up, with room made in Dynamo's lists first."""
    global _MOST
    state = {k: v.clone() for k, v in model.state_dict().items()}
    started = time.perf_counter()  # the first torch.compile of a process imports its stack
    limit = _raise_limit()
    with _LOCK:
        compiled = _frames()[0] - _OK_AT_RESET
        full = compiled > 0 and compiled + _MOST > limit
    if full:
        _reset(f"{compiled} frames compiled, room for {limit}")
    for attempt in (1, 2):
        with _LOCK:
            generation = _GENERATION
            before = _frames()[0] - _OK_AT_RESET
        ok, failed = _frames()
        net: Net = torch.compile(model)
        _warm_up(model, net, frozen, shapes)
        for p in model.parameters():
            p.grad = None
        now_ok, now_failed = _frames()
        fell_back = now_failed > failed
        with _LOCK:
            _MOST = max(_MOST, now_ok - ok)
        if not fell_back or attempt == 2 or before == 0:
            break
        # Most likely the recompile limit, with graphs of other models in the way.
        _reset(f"{name} fell back to eager in its warm-up")
    entry = Compiled(key, name, model, net, time.perf_counter() - started, generation)
    entry.warm_up_fell_back = fell_back
    model.load_state_dict(state)  # the warm-up's step changed BatchNorm's statistics
    if fell_back:
        log.warning(
            "compiled %s in %.1f s, but Dynamo failed to compile part of it (see its"
            " warnings): that part runs eagerly",
            name,
            entry.compile_seconds,
        )
    else:
        log.info(
            "compiled %s in %.1f s (kept warm for the next trials of the same shapes)",
            name,
            entry.compile_seconds,
        )
    return entry


def _frames() -> tuple[int, int]:
    """Frames Dynamo compiled in this process, and frames it failed to compile (and runs
    eagerly)."""
    from torch._dynamo.utils import counters

    frames = counters["frames"]
    return frames["ok"], frames["total"] - frames["ok"]


def _raise_limit() -> int:
    """Dynamo's recompile limit, raised to ``GRAPHS`` where lower (its accumulated limit at
    least as high)."""
    from torch._dynamo import config

    name = "recompile_limit" if hasattr(config, "recompile_limit") else "cache_size_limit"
    limit = max(int(getattr(config, name)), GRAPHS)
    setattr(config, name, limit)
    accumulated = f"accumulated_{name}"
    setattr(config, accumulated, max(int(getattr(config, accumulated)), limit))
    return limit


def _reset(why: str) -> None:
    """Empty Dynamo's caches, and drop the kept models whose code that was."""
    global _GENERATION, _OK_AT_RESET
    import torch._dynamo

    torch._dynamo.reset()
    with _LOCK:
        dropped = len(_KEPT)
        _KEPT.clear()
        _GENERATION += 1
        _OK_AT_RESET = _frames()[0]
    log.info("Dynamo's caches emptied (%s): %d kept compiled model(s) dropped", why, dropped)


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
