"""One way to train, seed and choose a device, for every model in archpred.

- ``resolve_device``: the one rule for ``device`` arguments (``"auto"`` is CUDA when present).
- ``seeded(seed)``: a block whose torch randomness (weight initialisation, dropout) is seeded,
  without touching the caller's global RNG state (built on ``torch.random.fork_rng``).
- ``batches(n, batch_size, seed, epoch)``: the one mini-batch shuffle; an epoch's order is a
  function of ``(seed, epoch)`` alone, so a resumed run sees the batches it would have seen.
- ``fit_loop``: epochs, callbacks, progress, checkpoint and resume. Models differ only in
  ``step`` (a batch -> a scalar loss) and how batches are made.
- ``fit_regressor``: Adam + cosine schedule on ``fit_loop`` for every network that regresses a
  target from feature rows (every torch predictor, the SVGe latent predictor).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from archpred.artifacts import load_torch, save_artifact
from archpred.errors import CheckpointError, InvalidOption, TrainingDiverged

_DEVICE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """The one device rule: ``"auto"`` (or None) is CUDA when present, else CPU; ``"cpu"``,
    ``"cuda"`` and ``"cuda:N"`` are taken as they are, and asking for a GPU that is not there
    is an ``InvalidOption`` (one line), not a crash deep inside torch."""
    if isinstance(device, torch.device):
        device = str(device)
    text = "auto" if device is None else str(device).strip().lower()
    if not _DEVICE.match(text):
        raise InvalidOption(f"unknown device {device!r}; use auto, cpu, cuda or cuda:N")
    if text == "auto":
        text = "cuda" if torch.cuda.is_available() else "cpu"
    if not text.startswith("cuda"):
        return torch.device(text)
    if not torch.cuda.is_available():
        raise InvalidOption(f"device {text!r} asked for, but this machine has no CUDA GPU; use auto or cpu")
    index = int(text.split(":")[1]) if ":" in text else torch.cuda.current_device()
    if index >= torch.cuda.device_count():
        raise InvalidOption(f"device {text!r}: there are only {torch.cuda.device_count()} CUDA device(s)")
    # Always with its index: "cuda" and "cuda:0" are one device, so caches keyed on it agree.
    return torch.device("cuda", index)


@contextlib.contextmanager
def isolated_rng(device: str | torch.device | None = None) -> Iterator[None]:
    """Run the block on a copy of torch's RNG state: whatever it draws, the caller's stream is
    left exactly as it was. CUDA's RNG is forked too when ``device`` is a GPU."""
    devices: list[int] = []
    if device is not None and torch.device(device).type == "cuda":
        devices = [torch.device(device).index or 0]
    with torch.random.fork_rng(devices=devices):
        yield


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed torch's RNG for the block and restore the caller's RNG state afterwards.

    Library code never seeds the global RNG for good: a user's own ``torch.manual_seed`` stream
    must not be shifted by fitting a model. ``torch.manual_seed`` seeds every CUDA device too,
    so every one is forked (not only the one the block uses), and restored after it.
    """
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(int(seed))
        yield


def batches(
    n: int, batch_size: int, seed: int, epoch: int, device: str | torch.device | None = None
) -> Iterator[torch.Tensor]:
    """Row indices of the mini-batches of one epoch (a shuffle seeded by ``(seed, epoch)``).

    A last batch of a single row is dropped: batch norm and pairwise ranking losses need two.
    Numpy draws the permutation so the order is the same on every device and torch version.
    """
    bs = max(1, min(int(batch_size), n))
    perm = torch.from_numpy(np.random.default_rng((int(seed), int(epoch))).permutation(n))
    if device is not None:
        perm = perm.to(device)
    stop = n - 1 if n % bs == 1 and n > 1 else n
    for start in range(0, stop, bs):
        yield perm[start : start + bs]


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
    """Stop when ``monitor`` (lower is better) has not improved for ``patience`` epochs.

    Given ``module``, a copy of its weights is kept at the best epoch and ``restore_best()``
    loads them back after the loop (the weights early stopping chose, not the last ones).
    """

    monitor: str = "val_loss"
    patience: int = 20
    module: torch.nn.Module | None = None
    best: float = field(default=float("inf"), init=False)
    best_epoch: int = field(default=-1, init=False)
    bad: int = field(default=0, init=False)
    _best_state: dict[str, torch.Tensor] | None = field(default=None, init=False, repr=False)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        value = logs.get(self.monitor)
        if value is None:
            return
        if value < self.best - 1e-12:
            self.best, self.best_epoch, self.bad = value, epoch, 0
            if self.module is not None:
                self._best_state = {k: v.detach().clone() for k, v in self.module.state_dict().items()}
        else:
            self.bad += 1

    def should_stop(self) -> bool:
        return self.bad >= self.patience

    def restore_best(self) -> None:
        if self.module is not None and self._best_state is not None:
            self.module.load_state_dict(self._best_state)


@dataclass
class CosineLR(Callback):
    """The one learning-rate schedule: cosine decay from ``lr`` (epoch 0) towards ``lr_min``
    (epoch ``epochs``), set at the start of every epoch.

    The rate is a function of the absolute epoch alone, so a resumed run (or one resumed with a
    new ``epochs``) continues the schedule without any saved scheduler state. Parameter groups
    with their own learning rate keep their ratio to ``lr``.
    """

    optimizer: torch.optim.Optimizer
    lr: float
    lr_min: float
    epochs: int
    ratios: list[float] = field(init=False)

    def __post_init__(self) -> None:
        self.ratios = [group["lr"] / self.lr for group in self.optimizer.param_groups]

    def rate(self, epoch: int) -> float:
        progress = min(epoch / max(self.epochs, 1), 1.0)
        return self.lr_min + 0.5 * (self.lr - self.lr_min) * (1.0 + float(np.cos(np.pi * progress)))

    def on_epoch_start(self, epoch: int) -> None:
        rate = self.rate(epoch)
        for group, ratio in zip(self.optimizer.param_groups, self.ratios):
            group["lr"] = rate * ratio


@dataclass
class FunctionCallback(Callback):
    """Wrap a plain function ``fn(epoch, logs)`` (a progress bar in the app, say)."""

    fn: Callable[[int, dict[str, float]], Any]

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self.fn(epoch, logs)


CHECKPOINT_FORMAT, CHECKPOINT_VERSION = "archpred-checkpoint", 1


def save_checkpoint(path: str | Path, **state: Any) -> None:
    """A training checkpoint, written atomically under its versioned header (``archpred.artifacts``)."""
    save_artifact(path, CHECKPOINT_FORMAT, CHECKPOINT_VERSION, **state)


def _check_recipe(path: str | Path, saved: dict[str, Any] | None, asked: dict[str, Any] | None) -> None:
    """Refuse to resume a checkpoint made with other settings (see ``fit_loop``'s ``recipe``)."""
    if saved is None or asked is None or saved == asked:
        return
    keys = sorted(set(saved) | set(asked), key=str)
    diff = [f"{k}={saved.get(k)!r} (now {asked.get(k)!r})" for k in keys if saved.get(k) != asked.get(k)]
    raise CheckpointError(
        f"{path} was made with other settings: {', '.join(diff)}; resume with those, or delete the checkpoint "
        "(train commands: --fresh) to start over"
    )


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Tensors and plain containers only (``weights_only=True``); a bad file is a one-line error.

    Checkpoints written before the header existed (no ``format``) are still read; any other
    archpred file (a saved predictor or VAE passed as ``--checkpoint``) is refused by name.
    """
    state = load_torch(path, map_location, what="checkpoint")
    found = state.get("format", CHECKPOINT_FORMAT)
    if found != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path}: a {found} file, not a training checkpoint")
    if state.get("version", CHECKPOINT_VERSION) != CHECKPOINT_VERSION:
        raise CheckpointError(f"{path}: checkpoint version {state.get('version')} is not supported")
    return state


def fit_loop(
    model: torch.nn.Module,
    step: Callable[[Any], torch.Tensor],
    batches: Callable[[int], Iterable[Any]],
    *,
    epochs: int,
    optimizer: torch.optim.Optimizer,
    validate: Callable[[], dict[str, float]] | None = None,
    callbacks: Iterable[Callback] = (),
    checkpoint: str | Path | None = None,
    progress: bool = True,
    desc: str = "training",
    grad_clip: float | None = None,
    recipe: dict[str, Any] | None = None,
) -> list[dict[str, float]]:
    """Train ``model`` for ``epochs``; returns one log dict per epoch.

    Args:
        step: batch -> scalar loss (the model is in train mode).
        batches: epoch -> an iterable of batches (seed the shuffle with the epoch).
        validate: called after every epoch in eval mode under ``no_grad``; its dict is logged.
        checkpoint: written after every epoch; if it exists when the loop starts, training
            resumes after its last epoch with the optimiser state restored (the learning-rate
            schedule, ``CosineLR``, is a function of the epoch and needs no state).
        recipe: what the run was asked, as plain values (learning rate, seed, data size, model
            options; not ``epochs``, which a resumed run may raise). It is kept in the checkpoint,
            and a checkpoint made with another recipe is refused, naming the keys that differ:
            resuming it would silently mix two runs.
    """
    callbacks = list(callbacks)
    history: list[dict[str, float]] = []
    start = 0
    recipe = None if recipe is None else json.loads(json.dumps(recipe, default=str))  # tuples -> lists
    if checkpoint is not None and Path(checkpoint).exists():
        state = load_checkpoint(checkpoint)
        _check_recipe(checkpoint, state.get("recipe"), recipe)
        try:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
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
        logs = {"epoch": float(epoch), "loss": float(np.mean(losses)) if losses else float("nan")}
        if losses and not np.isfinite(logs["loss"]):
            # stop before the checkpoint is written: the last one on disk is the last good epoch
            kept = f"; {checkpoint} keeps epoch {epoch - 1}" if checkpoint is not None and epoch > 0 else ""
            raise TrainingDiverged(
                f"{desc}: the loss became {logs['loss']} in epoch {epoch}{kept}; lower the learning rate"
            )
        if validate is not None:
            model.eval()
            with torch.no_grad():
                logs.update(validate())
        history.append(logs)
        bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items() if k != "epoch"})
        for cb in callbacks:
            cb.on_epoch_end(epoch, logs)
        if checkpoint is not None:
            save_checkpoint(
                checkpoint,
                model=model.state_dict(),
                optimizer=optimizer.state_dict(),
                epoch=epoch,
                history=history,
                **({} if recipe is None else {"recipe": recipe}),
            )
        if any(cb.should_stop() for cb in callbacks):
            break
    return history


def fit_regressor(
    module: torch.nn.Module,
    forward: Callable[[torch.nn.Module, dict[str, torch.Tensor]], torch.Tensor],
    feats: Mapping[str, torch.Tensor],
    target: torch.Tensor,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
    device: str | torch.device = "auto",
    weight_decay: float = 0.0,
    loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = torch.nn.functional.mse_loss,
    param_groups: list[dict[str, Any]] | None = None,
    cosine: bool = True,
    progress: bool = False,
    callbacks: Iterable[Callback] = (),
    desc: str = "training",
    validate: Callable[[], dict[str, float]] | None = None,
    checkpoint: str | Path | None = None,
    recipe: dict[str, Any] | None = None,
) -> list[dict[str, float]]:
    """Fit ``forward(module, rows of feats) -> target`` with Adam; everything else is ``fit_loop``.

    Args:
        feats: tensors with one row per example (kept where they are; each batch is moved).
        param_groups: Adam parameter groups with their own ``lr`` (default: all parameters, ``lr``).
        cosine: anneal the learning rate to 0 over ``epochs`` (``CosineLR``).
        validate: ``fit_loop``'s: called after every epoch in eval mode, its dict logged.
        checkpoint, recipe: ``fit_loop``'s: a fit interrupted at any moment resumes after its
            last finished epoch (the dropout stream restarts, so not bit for bit).

    Batches come from ``batches(n, batch_size, seed, epoch)``. Build ``module`` and call this
    inside one ``seeded(seed)`` block: dropout then continues the stream that initialised the
    weights, and the caller's RNG is untouched (this function isolates it in any case).
    """
    dev = resolve_device(device)
    module.to(dev)
    target = target.to(dev)
    n = len(target)
    optimizer = torch.optim.Adam(param_groups or module.parameters(), lr=lr, weight_decay=weight_decay)

    def step(rows: torch.Tensor) -> torch.Tensor:
        batch = {k: v[rows].to(dev) for k, v in feats.items()}
        return loss(forward(module, batch), target[rows.to(dev)])

    with isolated_rng(dev):  # dropout draws never shift the caller's stream
        return fit_loop(
            module,
            step,
            lambda epoch: batches(n, batch_size, seed, epoch),
            epochs=epochs,
            optimizer=optimizer,
            callbacks=[CosineLR(optimizer, lr, 0.0, epochs), *callbacks] if cosine else callbacks,
            progress=progress,
            desc=desc,
            validate=validate,
            checkpoint=checkpoint,
            recipe=recipe,
        )
