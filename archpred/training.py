"""One training loop for every model: epochs, callbacks, progress, checkpoint and resume.

Models differ only in ``step`` (a batch -> a scalar loss) and how batches are made; the
loop, the optimiser bookkeeping, checkpointing and resumption live here once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from archpred.errors import CheckpointError


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` is CUDA when present, else CPU."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def seeded_generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(seed))


class Callback:
    """Hooks of the loop; ``logs`` holds the epoch's mean loss and anything callbacks add."""

    def on_epoch_start(self, epoch: int) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        pass

    def should_stop(self) -> bool:
        return False


@dataclass
class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs."""

    monitor: str = "val_loss"
    patience: int = 20
    best: float = field(default=float("inf"), init=False)
    bad: int = field(default=0, init=False)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        value = logs.get(self.monitor)
        if value is None:
            return
        if value < self.best - 1e-12:
            self.best, self.bad = value, 0
        else:
            self.bad += 1

    def should_stop(self) -> bool:
        return self.bad >= self.patience


@dataclass
class CosineLR(Callback):
    """Cosine decay of the learning rate from ``lr`` (epoch 0) towards ``lr_min`` (epoch ``epochs``).

    The rate is a function of the absolute epoch alone, so a resumed run (or one resumed with a
    new ``epochs``) continues the schedule without any saved scheduler state.
    """

    optimizer: torch.optim.Optimizer
    lr: float
    lr_min: float
    epochs: int

    def rate(self, epoch: int) -> float:
        progress = min(epoch / max(self.epochs, 1), 1.0)
        return self.lr_min + 0.5 * (self.lr - self.lr_min) * (1.0 + float(np.cos(np.pi * progress)))

    def on_epoch_start(self, epoch: int) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = self.rate(epoch)


@dataclass
class FunctionCallback(Callback):
    """Wrap a plain function ``fn(epoch, logs)`` (a progress bar in the app, say)."""

    fn: Callable[[int, dict[str, float]], Any]

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self.fn(epoch, logs)


def save_checkpoint(path: str | Path, **state: Any) -> None:
    """Atomic write: a crash mid-save leaves the previous checkpoint intact."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Tensors and plain containers only (``weights_only=True``); a bad file is a one-line error."""
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such checkpoint") from None
    except Exception as err:  # torch raises many types for corrupt or foreign files
        raise CheckpointError(f"{path}: not a readable archpred checkpoint ({type(err).__name__})") from None
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: not an archpred checkpoint")
    return state


def fit_loop(
    model: torch.nn.Module,
    step: Callable[[Any], torch.Tensor],
    batches: Callable[[int], Iterable[Any]],
    *,
    epochs: int,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    validate: Callable[[], dict[str, float]] | None = None,
    callbacks: Iterable[Callback] = (),
    checkpoint: str | Path | None = None,
    progress: bool = True,
    desc: str = "training",
    grad_clip: float | None = None,
) -> list[dict[str, float]]:
    """Train ``model`` for ``epochs``; returns one log dict per epoch.

    Args:
        step: batch -> scalar loss (the model is in train mode).
        batches: epoch -> an iterable of batches (seed the shuffle with the epoch).
        validate: called after every epoch in eval mode under ``no_grad``; its dict is logged.
        checkpoint: written after every epoch; if it exists when the loop starts, training
            resumes after its last epoch with the optimiser and scheduler state restored.
    """
    callbacks = list(callbacks)
    history: list[dict[str, float]] = []
    start = 0
    if checkpoint is not None and Path(checkpoint).exists():
        state = load_checkpoint(checkpoint)
        try:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            if scheduler is not None and "scheduler" in state:
                scheduler.load_state_dict(state["scheduler"])
        except (KeyError, RuntimeError, ValueError) as err:
            raise CheckpointError(f"{checkpoint}: does not fit this model ({type(err).__name__})") from None
        start = int(state["epoch"]) + 1
        history = [dict(h) for h in state.get("history", [])]
    bar = tqdm(range(start, epochs), desc=desc, disable=not progress, initial=start, total=epochs, leave=False)
    for epoch in bar:
        model.train()
        for cb in callbacks:
            cb.on_epoch_start(epoch)
        losses = []
        for batch in batches(epoch):
            optimizer.zero_grad(set_to_none=True)
            loss = step(batch)
            loss.backward()
            if grad_clip is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
            optimizer.step()
            losses.append(float(loss.detach()))
        if scheduler is not None:
            scheduler.step()
        logs = {"epoch": float(epoch), "loss": float(np.mean(losses)) if losses else float("nan")}
        if validate is not None:
            model.eval()
            with torch.no_grad():
                logs.update(validate())
        history.append(logs)
        bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items() if k != "epoch"})
        for cb in callbacks:
            cb.on_epoch_end(epoch, logs)
        if checkpoint is not None:
            extra = {"scheduler": scheduler.state_dict()} if scheduler is not None else {}
            save_checkpoint(
                checkpoint,
                model=model.state_dict(),
                optimizer=optimizer.state_dict(),
                epoch=epoch,
                history=history,
                **extra,
            )
        if any(cb.should_stop() for cb in callbacks):
            break
    return history
