"""Self-training on the unlabelled space: teachers label random cells, a student learns from both.

A predictor fitted on a hundred labelled cells has seen a hundred graphs; the space holds
hundreds of thousands more, unlabelled and free to draw. Self-training (pseudo-labelling) uses
them: teachers of different families (by default the GNN surrogate and the Neural Predictor)
are fitted on the labelled cells and score ``unlabelled`` random cells of the space that are not
among them; the teachers' rankings are averaged (ranks, so no family's scale dominates) and
mapped onto the labelled accuracies' quantiles, and a student network is fitted on the labelled
cells together with these pseudo-labelled ones. The student is the fitted model: it predicts,
scores the whole space and is what a file holds. Its outputs are mapped onto accuracy by an
isotonic regression on the labelled cells alone (the pseudo-labels only shape its ranking).

Draws come from the space's enumeration where there is one (uniform over distinct cells, as the
enumeration cache lists them), else from ``space.sample``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from typing import Any

import numpy as np

from archpred.errors import InvalidOption
from archpred.predictors.base import Predictor, PredictorConfig
from archpred.spaces import Architecture, SearchSpace

TEACHABLE = ("gnn", "neural-predictor", "mlp", "lstm", "random-forest")
SOURCES = ("space", "samples")


@dataclasses.dataclass(frozen=True)
class SelfTrainingConfig(PredictorConfig):
    """Options of :class:`SelfTrainingPredictor`."""

    teachers: str = "gnn+neural-predictor"  # '+'-joined predictor names, each with its default config
    student: str = "gnn"  # the predictor fitted on labelled and pseudo-labelled cells
    unlabelled: int = 3_000  # random cells of the space the teachers label
    # "space": drawn uniformly from the space's enumeration where it has one, else sampled;
    # "samples": drawn by ``space.sample`` (no enumeration cache read)
    unlabelled_from: str = "space"
    # The student's optimiser steps: it learns from ``unlabelled`` more cells than its default
    # budget was chosen for. 0: the student's own default.
    student_steps: int = 5_000

    def __post_init__(self) -> None:
        for name in (*self.teacher_names, self.student):
            if name not in TEACHABLE:
                raise InvalidOption(f"self-training takes {', '.join(TEACHABLE)} as teacher or student, not {name!r}")
        if self.unlabelled < 1:
            raise InvalidOption(f"unlabelled must be >= 1, got {self.unlabelled}")
        if self.unlabelled_from not in SOURCES:
            raise InvalidOption(f"unknown unlabelled_from {self.unlabelled_from!r}; choose from {', '.join(SOURCES)}")
        if self.student_steps < 0:
            raise InvalidOption(f"student_steps must be >= 0 (0: the student's default), got {self.student_steps}")
        if self.student_steps and self.student == "random-forest":
            raise InvalidOption("a random-forest student takes no steps: pass student_steps=0")

    @property
    def teacher_names(self) -> tuple[str, ...]:
        return tuple(self.teachers.split("+"))


class SelfTrainingPredictor(Predictor):
    """Teachers fitted on the labelled cells pseudo-label random cells; the student fits both.

    Args:
        seed: seeds the teachers, the draw of unlabelled cells and the student.
        device: where every network trains and predicts.
        progress: progress bars while fitting.
        callbacks: passed to every teacher and the student (called after each of their epochs).
        **config: fields of :class:`SelfTrainingConfig`.

    Fitting takes the time of every teacher plus the student on ``len(archs) + unlabelled``
    cells. After ``fit``, ``student_`` is the fitted student predictor and ``pseudo_`` the
    unlabelled cells' keys with their pseudo-labels.
    """

    name = "self-training"
    Config = SelfTrainingConfig

    def __init__(
        self,
        seed: int = 0,
        device: str = "auto",
        progress: bool = False,
        callbacks: Iterable[Any] = (),
        **config: Any,
    ) -> None:
        super().__init__(seed=seed, device=device, progress=progress, **config)
        self.callbacks = list(callbacks)

    def planned_epochs(self, n: int) -> int:
        from archpred.predictors import make_predictor

        c = self.config
        teachers = sum(make_predictor(t, device="cpu").planned_epochs(n) for t in c.teacher_names)
        student = make_predictor(c.student, device="cpu", **self._student_options())
        return teachers + student.planned_epochs(n + c.unlabelled)

    def _fit(self, archs: list[Architecture], y: np.ndarray) -> None:
        from archpred.predictors import make_predictor

        c = self.config
        rng = np.random.default_rng((self.seed, 0x5E1F))
        extra = unlabelled_cells(self.space_, c.unlabelled, rng, archs, enumerated=c.unlabelled_from == "space")
        votes = [
            rank_fraction(make_predictor(name, **self._common()).fit(archs, y).predict(extra))
            for name in c.teacher_names
        ]
        pseudo = np.quantile(y, rank_fraction(np.mean(votes, axis=0)))
        student = make_predictor(c.student, **self._common(), **self._student_options())
        student.fit([*archs, *extra], np.concatenate([y, pseudo]))
        calibrate_on(student, archs, y)
        self.student_ = student
        self.pseudo_ = ([self.space_.key(a) for a in extra], pseudo)

    def _common(self) -> dict[str, Any]:
        return {"seed": self.seed, "device": self.device, "progress": self.progress, "callbacks": self.callbacks}

    def _student_options(self) -> dict[str, Any]:
        return {"steps": self.config.student_steps} if self.config.student_steps else {}

    def _predict(self, archs: list[Architecture]) -> np.ndarray:
        return self.student_.predict(archs)

    @property
    def reads_padded(self) -> bool:
        return bool(getattr(self.student_, "reads_padded", False)) if hasattr(self, "student_") else False

    def predict_padded(self, adjacency: np.ndarray, types: np.ndarray) -> np.ndarray:
        """The student's predictions for padded graphs (``TorchPredictor.predict_padded``)."""
        self._check_fitted()
        return self.student_.predict_padded(adjacency, types)

    def _state(self) -> dict[str, Any]:
        s = self.student_
        return {"config": json.dumps(dataclasses.asdict(s.config)), "seed": int(s.seed), "state": s._state()}

    def _restore(self, state: dict[str, Any]) -> None:
        from archpred.predictors import make_predictor

        student = make_predictor(
            self.config.student, seed=int(state["seed"]), device=self.device, **json.loads(state["config"])
        )
        student.space_ = self.space_
        student._restore(state["state"])
        self.student_ = student


def rank_fraction(values: np.ndarray) -> np.ndarray:
    """Each value's rank as a fraction in (0, 1), ties averaged: ``(rank + 0.5) / n``."""
    from scipy.stats import rankdata

    values = np.asarray(values, dtype=np.float64)
    return (rankdata(values) - 0.5) / len(values)


def unlabelled_cells(
    space: SearchSpace, n: int, rng: np.random.Generator, labelled: list[Architecture], enumerated: bool = True
) -> list[Architecture]:
    """Up to ``n`` distinct random cells of ``space``, none of them in ``labelled``: uniform over
    the enumeration if ``enumerated`` and the space has one (fewer when it holds fewer), else
    drawn by ``space.sample``."""
    seen = {space.key(a) for a in labelled}
    if not enumerated:
        return sampled_cells(space, n, rng, seen)
    try:
        arrays = space.arrays(progress=False)
    except NotImplementedError:
        return sampled_cells(space, n, rng, seen)
    draw = rng.permutation(len(arrays))
    rows = [r for r in draw[: n + len(seen)] if arrays.keys[r] not in seen][:n]
    return arrays.archs(np.sort(rows))


def sampled_cells(space: SearchSpace, n: int, rng: np.random.Generator, seen: set[str]) -> list[Architecture]:
    """``n`` distinct cells drawn by ``space.sample``, none with a key in ``seen``."""
    seen = set(seen)
    out: list[Architecture] = []
    for _ in range(50 * n):  # a space too small for n new cells stops here, not forever
        if len(out) == n:
            break
        arch = space.sample(rng)
        key = space.key(arch)
        if key not in seen:
            seen.add(key)
            out.append(arch)
    return out


def calibrate_on(student: Predictor, archs: list[Architecture], y: np.ndarray) -> None:
    """Refit a ranking-trained student's map onto accuracy on the labelled cells alone: its
    outputs' order is what the pseudo-labels taught; their accuracy scale comes from real labels."""
    from archpred.predictors.torch_common import monotone_calibration

    if getattr(student, "calibration_", None) is None:
        return  # a student trained with a scale of its own (MSE) keeps it
    student.calibration_ = None
    student.calibration_ = monotone_calibration(student.predict(archs), y)
