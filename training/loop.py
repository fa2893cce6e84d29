"""The one train / evaluate loop for every model, data set and recipe.

``fit(params, report)`` trains, calls ``report(val_acc, epoch)`` after every epoch (hpo turns
that into pruning), keeps the weights of the best epoch (early stopping as in the Food-11
early-stopping report),
evaluates the test set once with them, and returns the metrics. It knows nothing of Optuna:
``report`` is a plain callable, and whatever it raises (a pruning signal) passes through.
"""

from __future__ import annotations

import copy
import functools
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, replace
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from training.airbench import flip_translate_logits
from training.checkpoint import save_checkpoint, stored_stats
from training.compiled import Compiled, Net, Shapes, acquire, release
from training.config import TrainConfig
from training.data import Split, load_data
from training.distill import kd_loss, load_teacher
from training.inputs import InputPipeline, input_stats
from training.models import (
    DWStudent,
    ModelSpec,
    build_model,
    count_parameters,
    freeze_backbone,
    input_channels,
    load_pretrained,
    model_kind,
    train_mode,
)
from training.optimizers import build_optimizer
from training.pruning import prune_channels
from training.schedules import build_schedule
from training.state import read_state, write_state
from training.stopping import DivergedError, EarlyStopping

log = logging.getLogger("training")

Report = Callable[[float, int], None]

EVAL_BATCH = 1024


def fit(params: Mapping[str, Any] | TrainConfig, report: Report | None = None) -> dict[str, float]:
    """Train with ``params`` and return the metrics; ``val_acc`` is the best validation accuracy.

    Returned keys: ``val_acc``, ``test_acc`` (of the best epoch's weights, when the data set
    has a test split), ``num_params``, ``epochs`` (run), ``best_epoch``, ``train_seconds``
    (training steps only, evaluation excluded), ``images_per_second`` (of those steps) and,
    after resuming from ``state_file``, ``resumed_from_epoch``.
    """
    config = params if isinstance(params, TrainConfig) else TrainConfig.from_params(params)
    trainer = _Trainer(config, report or _no_report)
    try:
        return trainer.run()
    finally:
        trainer.release()


def _no_report(value: float, step: int) -> None:
    return None


class _Trainer:
    """One training run: set up once, then steps, epochs, evaluation."""

    def __init__(self, config: TrainConfig, report: Report) -> None:
        self.config = config
        self.report = report
        self.device = _device(config.device)
        self.cuda = self.device.type == "cuda"
        # On the device: epoch orders and augmentation draw there, with no copy from the host.
        self.generator = torch.Generator(device=self.device).manual_seed(config.seed)
        self.teacher: nn.Module | None = None
        self.frozen: list[nn.Module] = []  # normalisation layers of a frozen backbone
        self.compiled: list[Compiled] = []  # taken from (and given back to) the kept ones

    def setup(self) -> None:
        c = self.config
        torch.manual_seed(c.seed)
        if self.cuda:
            torch.backends.cudnn.benchmark = True
        data = load_data(c, self.device)
        self.data = data
        channels = input_channels(c.model, data.channels)
        self.spec = ModelSpec(data.num_classes, channels, data.resolution, c.width)
        model = build_model(c.model, self.spec)
        if c.pretrained:
            loaded, skipped = load_pretrained(model, c.model, c.pretrained)
            log.debug("pretrained %s: %d tensors loaded, new: %s", c.pretrained, loaded, skipped)
            if c.freeze_backbone:
                self.frozen = freeze_backbone(model, c.model)
        self.num_params = count_parameters(model)
        model = model.to(self.device)
        if self.cuda:
            model = model.to(memory_format=torch.channels_last)
        self.model = model
        stored = stored_stats(c.pretrained) if c.pretrained else None
        self.stats = input_stats(c, data, channels, stored)
        self.inputs = InputPipeline(c, data, channels, self.stats, self.generator, self.device)
        init = model_kind(c.model).data_init
        if init is not None and not c.pretrained:
            with torch.no_grad():
                init(model, self.inputs.eval(data.train, data.train.positions(0, 5000)))
        if c.teacher:
            self.teacher = load_teacher(
                c.teacher, c.teacher_model, self.spec, self.stats, data.channels, self.device
            )
        self.net: Net = self.model  # what steps and evaluations call: compiled or not
        if c.compile:
            self._compile()
        self.optimizer = build_optimizer(self.model, c)
        # The last partial batch is dropped (each epoch draws a new order, so no image is
        # always left out): every step has the same shape, which compiled and cuDNN-tuned
        # kernels want, and a batch of one image cannot break batch norm.
        self.batches = max(1, len(data.train) // c.batch_size)
        self.schedule = build_schedule(self.optimizer, c, self.batches)

    def _compile(self) -> None:
        """``self.model`` compiled, from the models kept warm when one has its graph."""
        c, data = self.config, self.data
        sizes = {
            size
            for split in (data.val, data.test)
            if split is not None
            for size in (min(len(split), EVAL_BATCH), len(split) % EVAL_BATCH)
            if size > 0
        }
        res = data.resolution
        shapes = Shapes(
            (c.batch_size, self.spec.in_channels, res, res),
            tuple(sorted(sizes, reverse=True)),
            self.device,
            self.cuda,
            self.cuda,
            c.tta,
        )
        entry, self.frozen = acquire(c.model, self.spec, self.model, self.frozen, shapes)
        self.compiled.append(entry)
        self.model, self.net = entry.module, entry.net

    def release(self) -> None:
        """Free the accelerator memory of this run (the data set itself stays warm, and a
        compiled model goes back to the kept ones)."""
        while self.compiled:
            release(self.compiled.pop())
        for name in ("model", "net", "teacher", "optimizer", "schedule"):
            if hasattr(self, name):
                delattr(self, name)
        if self.cuda:
            torch.cuda.empty_cache()

    def run(self) -> dict[str, float]:
        c = self.config
        self.setup()
        metrics = self._train()
        if self.data.test is not None:
            metrics["test_acc"] = self.evaluate(self.data.test)
        metrics["num_params"] = float(self.num_params)
        if self.compiled:
            metrics["compile_seconds"] = sum(e.seconds for e in self.compiled)
            metrics["compile_saved_seconds"] = sum(e.saved for e in self.compiled)
            metrics["compile_reused"] = float(sum(e.reused for e in self.compiled))
            metrics["compile_fell_back"] = float(any(e.fell_back for e in self.compiled))
        if c.checkpoint:
            save_checkpoint(
                c.checkpoint,
                self.model,
                c.model,
                self.spec,
                mean=self.stats[0],
                std=self.stats[1],
                val_acc=metrics["val_acc"],
                classes=list(self.data.classes),
            )
        return metrics

    # -- training ---------------------------------------------------------------------------

    def step(self, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """One optimiser step on a prepared batch; returns the (detached) loss."""
        c = self.config
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.cuda):
            logits = self.net(inputs)
            if self.teacher is not None:
                with torch.no_grad():
                    teacher_logits = self.teacher(inputs)
                loss = kd_loss(
                    logits.float(),
                    teacher_logits.float(),
                    targets,
                    c.kd_temperature,
                    c.kd_alpha,
                    c.label_smoothing,
                )
            else:
                loss = F.cross_entropy(logits.float(), targets, label_smoothing=c.label_smoothing)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        self.optimizer.step()
        self.schedule.step()
        return loss.detach()

    def _train(self) -> dict[str, float]:
        c, train = self.config, self.data.train
        weights = self._class_weights(train) if c.balance == "weighted" else None
        stopper = EarlyStopping(c.early_stopping_patience)
        best_state = copy.deepcopy(self.model.state_dict())
        seen, train_seconds, done, stopped = 0, 0.0, 0, False
        values: dict[int, float] = {}  # validation accuracy per epoch
        resumed = self._load_state()
        if resumed is not None:
            done, stopped = int(resumed["epoch"]), bool(resumed["stopped"])
            stopper = EarlyStopping(**resumed["stopper"])
            # None: the best epoch was the saved one (its weights are stored once).
            best_state = resumed["best_state"] or copy.deepcopy(self.model.state_dict())
            seen, train_seconds = int(resumed["seen"]), float(resumed["train_seconds"])
            log.info("resuming from the state after epoch %d (%s)", done, c.state_file)
            # The stopped run may not have reported its last epochs before it died: report
            # every saved epoch again (the caller ignores the epochs it already has).
            values = dict(resumed.get("values") or {done: resumed["last_value"]})
            for step, value in sorted(values.items()):
                self.report(float(value), int(step))
        epoch = done
        last_write = time.perf_counter()
        # A state saved after early stopping has nothing left to train.
        for epoch in range(done + 1, c.num_epochs + 1 if not stopped else done + 1):
            if self._round_starts(epoch):
                self._prune(epoch)  # a smaller network: its own best epoch, its own stopping
                stopper = EarlyStopping(c.early_stopping_patience)
                best_state = copy.deepcopy(self.model.state_dict())
            started = time.perf_counter()
            train_mode(self.model, self.frozen)
            order = self._epoch_order(len(train), weights)
            loss_sum = torch.zeros((), device=self.device)
            for b in range(self.batches):
                index = order[b * c.batch_size : (b + 1) * c.batch_size]
                inputs = self.inputs.train(train, index, epoch)
                loss_sum += self.step(inputs, train.labels[index])
                seen += len(index)
            mean_loss = float(loss_sum) / self.batches  # one device sync per epoch
            train_seconds += time.perf_counter() - started
            if not math.isfinite(mean_loss):
                raise DivergedError(
                    f"training loss became {mean_loss} in epoch {epoch} (lr {c.lr:g})"
                )
            val_acc = self.evaluate(self.data.val)
            log.debug(
                "epoch %d/%d loss %.4f val_acc %.4f lr %.3g",
                epoch,
                c.num_epochs,
                mean_loss,
                val_acc,
                self.optimizer.param_groups[0]["lr"],
            )
            stopped = stopper.update(val_acc, epoch)
            if stopper.best_epoch == epoch:
                best_state = copy.deepcopy(self.model.state_dict())
            values[epoch] = val_acc

            best = None if stopper.best_epoch == epoch else best_state
            save = functools.partial(
                self._save_state, values, stopped, stopper, best, seen, train_seconds
            )

            # Saved before reporting when due: if the trial is killed now, its retry continues
            # after this epoch (or the last one saved, at most ``state_every`` seconds ago).
            due = stopped or epoch == c.num_epochs
            due = due or time.perf_counter() - last_write >= c.state_every
            if due:
                save()
                last_write = time.perf_counter()
            try:
                self.report(val_acc, epoch)  # may raise to prune or stop the trial
            except BaseException:
                if not due:  # told to stop: its retry continues after this epoch
                    save()
                raise
            if stopped:
                log.debug("early stopping after epoch %d (best %d)", epoch, stopper.best_epoch)
                break
        self.model.load_state_dict(best_state)
        metrics = {
            "val_acc": stopper.best,
            "epochs": float(epoch),
            "best_epoch": float(stopper.best_epoch),
            "train_seconds": train_seconds,
            "images_per_second": seen / train_seconds if train_seconds > 0 else 0.0,
        }
        if resumed is not None:
            metrics["resumed_from_epoch"] = float(resumed["epoch"])
        return metrics

    # -- resumable state -----------------------------------------------------------------------

    def _fingerprint(self) -> str:
        """What must match for a saved state to be resumed: the config, less the file itself."""
        return repr(replace(self.config, state_file=None))

    def _save_state(
        self,
        values: dict[int, float],
        stopped: bool,
        stopper: EarlyStopping,
        best_state: dict[str, Any] | None,
        seen: int,
        train_seconds: float,
    ) -> None:
        if not self.config.state_file:
            return
        state = {
            "fingerprint": self._fingerprint(),
            "epoch": max(values),
            "last_value": values[max(values)],
            "values": dict(values),
            "stopped": stopped,
            "stopper": asdict(stopper),
            "best_state": best_state,
            "seen": seen,
            "train_seconds": train_seconds,
            "model": self.model.state_dict(),
            "bandwidth": getattr(self.model, "bandwidth", None) if self.config.prune_rate else None,
            "optimizer": self.optimizer.state_dict(),
            "schedule": self.schedule.state_dict(),
            "generator": self.generator.get_state(),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if self.cuda else [],
        }
        write_state(self.config.state_file, state)

    def _load_state(self) -> dict[str, Any] | None:
        state = read_state(self.config.state_file, self._fingerprint(), self.device)
        if state is None:
            return None
        if state.get("bandwidth") is not None:  # pruned: rebuild the network it saved
            round_start = self._round_start(int(state["epoch"]))
            self._rebuild(DWStudent(self.spec, bandwidth=state["bandwidth"]), round_start)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["schedule"])
        self.generator.set_state(state["generator"].cpu())
        torch.set_rng_state(state["torch_rng"].cpu())
        if self.cuda and state["cuda_rng"]:
            torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda_rng"]])
        return state

    # -- pruning ---------------------------------------------------------------------------------

    def _round_start(self, epoch: int) -> int:
        """The first epoch of the pruning round of ``epoch`` (the last round takes what the
        others leave: 10 epochs in 3 rounds are 3, 3 and 4)."""
        c = self.config
        length = c.num_epochs // c.prune_rounds
        return min((epoch - 1) // length, c.prune_rounds - 1) * length + 1

    def _round_starts(self, epoch: int) -> bool:
        return self.config.prune_rate is not None and self._round_start(epoch) == epoch

    def _prune(self, epoch: int) -> None:
        assert self.config.prune_rate is not None
        pruned = prune_channels(self.model, self.spec, self.config.prune_rate)
        log.debug("epoch %d: pruned to %s channels", epoch, pruned.bandwidth)
        self._rebuild(pruned, epoch)

    def _rebuild(self, model: nn.Module, round_start: int) -> None:
        """Train ``model`` from now on: a new optimiser, a schedule over the round's epochs."""
        c = self.config
        self.model = self.net = model.to(self.device)
        if self.cuda:
            self.model = self.net = self.model.to(memory_format=torch.channels_last)
        if c.compile:
            self._compile()
        self.num_params = count_parameters(self.model)
        self.optimizer = build_optimizer(self.model, c)
        end = self._round_start(c.num_epochs)  # the last round's start
        length = c.num_epochs // c.prune_rounds if round_start < end else c.num_epochs - end + 1
        self.schedule = build_schedule(self.optimizer, replace(c, num_epochs=length), self.batches)

    def _epoch_order(self, n: int, weights: torch.Tensor | None) -> torch.Tensor:
        if weights is None:
            return torch.randperm(n, generator=self.generator, device=self.generator.device)
        # class-balanced: draw with replacement, rare classes as often as common ones
        return torch.multinomial(weights, n, replacement=True, generator=self.generator)

    def _class_weights(self, train: Split) -> torch.Tensor:
        counts = torch.bincount(train.labels, minlength=self.data.num_classes).float()
        return (1.0 / counts.clamp_min(1))[train.labels]

    def sync(self) -> None:
        if self.cuda:
            torch.cuda.synchronize(self.device)

    # -- evaluation --------------------------------------------------------------------------

    @torch.no_grad()
    def evaluate(self, split: Split) -> float:
        self.model.eval()
        correct = torch.zeros((), dtype=torch.int64, device=self.device)
        for start in range(0, len(split), EVAL_BATCH):
            index = split.positions(start, start + EVAL_BATCH)
            inputs = self.inputs.eval(split, index)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.cuda):
                tta = self.config.tta
                logits = flip_translate_logits(self.net, inputs) if tta else self.net(inputs)
            correct += (logits.argmax(dim=1) == split.labels[index]).sum()
        return float(correct) / max(1, len(split))


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device cuda was asked for, but no CUDA GPU is available")
    return torch.device(name)
