"""The ask/tell contract every searcher keeps, and the record of one evaluation.

A searcher proposes cells (``ask``) and learns their results (``tell``), in the style of
Optuna and Syne Tune: it never evaluates anything itself, so the same searcher runs against a
benchmark table, real training or a predictor. It holds no global state: randomness comes from
the ``np.random.Generator`` it is given, and ``state_dict`` captures everything (the generator's
state included) as JSON, so a run stopped after any evaluation resumes exactly.

A searcher never proposes a cell twice within a run: cells are identified by ``space.key``
(NB-201's arch string, NB-101's official graph hash, so isomorphic NB-101 cells are one cell).
Where only some cells can be evaluated (NB-101: the 20,001 cells of our table), the searcher is
given those ``Candidates`` and proposes only them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from archpred.errors import InvalidOption
from archpred.spaces import Architecture, SearchSpace

# Tries at drawing a new cell by rejection before a searcher lists what is left explicitly.
_REJECTION_TRIES = 2_000


@dataclass(frozen=True)
class Evaluation:
    """One finished query.

    Attributes:
        arch: the cell evaluated.
        key: ``space.key(arch)``, its identity within the run.
        val_acc: the validation accuracy the searcher saw (a fraction; on NB-201 one training
            seed drawn at random, as NASLib does, so it is noisy).
        mean_val_acc: the mean validation accuracy over the benchmark's seeds (reporting only).
        test_acc: the test accuracy, ``None`` where the benchmark has none (reporting only).
        cost: the benchmark's training time of the cell, in seconds.
        time: wall-clock seconds the query took here (not compared: it differs between runs).
        extra: the algorithm's own fields (``phase``, ``parent``, ...), JSON-ready.
    """

    arch: Architecture
    key: str
    val_acc: float
    mean_val_acc: float
    test_acc: float | None
    cost: float
    time: float = field(default=0.0, compare=False)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_record(self) -> dict[str, Any]:
        """JSON-ready fields; ``from_record`` reads them back."""
        return {
            "arch": self.arch.to_dict(),
            "key": self.key,
            "val_acc": self.val_acc,
            "mean_val_acc": self.mean_val_acc,
            "test_acc": self.test_acc,
            "cost": self.cost,
            "time": self.time,
            "extra": self.extra,
        }

    @classmethod
    def from_record(cls, space: SearchSpace, record: dict[str, Any]) -> Evaluation:
        """The evaluation ``to_record`` wrote; the cell is rebuilt (and validated) by ``space``."""
        return cls(
            arch=space.parse(record["arch"]),
            key=str(record["key"]),
            val_acc=float(record["val_acc"]),
            mean_val_acc=float(record["mean_val_acc"]),
            test_acc=None if record.get("test_acc") is None else float(record["test_acc"]),
            cost=float(record["cost"]),
            time=float(record.get("time") or 0.0),
            extra=dict(record.get("extra") or {}),
        )


@dataclass(frozen=True)
class Candidates:
    """The only cells that can be evaluated (a table's cells), with their keys.

    ``archs[i]`` has key ``keys[i]``; the keys come from the table, so searchers need not hash
    20,001 cells themselves.
    """

    archs: Sequence[Architecture]
    keys: Sequence[str]
    index: dict[str, int] = field(repr=False, compare=False)

    @classmethod
    def from_table(cls, archs: Sequence[Architecture], keys: Sequence[str]) -> Candidates:
        if len(archs) != len(keys):
            raise InvalidOption(f"{len(archs)} candidate cells but {len(keys)} keys")
        return cls(list(archs), list(keys), {k: i for i, k in enumerate(keys)})

    def __len__(self) -> int:
        return len(self.archs)

    def __contains__(self, key: str) -> bool:
        return key in self.index


class Searcher:
    """Base of every search algorithm: the ask/tell loop, de-duplication and state.

    Subclasses implement ``_propose`` (one new cell and its info) and ``_observe`` (learn from
    a result), and extend ``_state`` / ``_load_state`` with their own fields. Helpers draw new
    cells that respect the run's ``Candidates``: ``_random``, ``_mutant``, ``_neighbours``.

    Args:
        space: the search space.
        rng: the only source of randomness.
        candidates: the cells that may be proposed (``None``: every cell of the space).
        max_tries: mutations tried for a new admissible child before a random cell is used.
    """

    name: ClassVar[str] = ""

    def __init__(
        self,
        space: SearchSpace,
        rng: np.random.Generator,
        candidates: Candidates | None = None,
        max_tries: int = 100,
    ) -> None:
        if not isinstance(rng, np.random.Generator):
            raise InvalidOption(
                f"rng must be a numpy Generator (np.random.default_rng(seed)), got {type(rng).__name__}"
            )
        if int(max_tries) < 1:
            raise InvalidOption(f"max_tries must be at least 1, got {max_tries}")
        self.space = space
        self.rng = rng
        self.candidates = candidates
        self.max_tries = int(max_tries)
        self._seen: dict[str, None] = {}  # keys asked or told, in order (a dict keeps the order)
        self._pending: dict[str, tuple[Architecture, dict[str, Any]]] = {}
        self.n_told = 0

    # -- the contract ---------------------------------------------------------------------
    def ask(self, n: int = 1) -> list[Architecture]:
        """``n`` new cells to evaluate, none of them asked or told before in this run."""
        if int(n) < 1:
            raise InvalidOption(f"ask needs n >= 1, got {n}")
        out = []
        for _ in range(int(n)):
            arch, key, info = self._propose()
            if key in self._seen:  # a searcher bug, not a user error
                raise RuntimeError(f"{self.name} proposed {key} twice")
            self._seen[key] = None
            self._pending[key] = (arch, info)
            out.append(arch)
        return out

    def info(self, arch_or_key: Architecture | str) -> dict[str, Any]:
        """The algorithm's fields of an asked, not yet told cell (``phase``, ``parent``, ...)."""
        key = arch_or_key if isinstance(arch_or_key, str) else self.space.key(arch_or_key)
        if key not in self._pending:
            raise InvalidOption(f"{key} is not a pending proposal of this searcher")
        return dict(self._pending[key][1])

    def tell(self, evaluation: Evaluation) -> None:
        """Learn one result. A cell that was not asked may be told once (``phase`` external)."""
        key = evaluation.key
        if key in self._pending:
            _, info = self._pending.pop(key)
        elif key in self._seen:
            raise InvalidOption(f"{key} was already told to this searcher")
        else:
            self._seen[key] = None
            info = {"phase": "external"}
        self.n_told += 1
        self._observe(evaluation, info)

    @property
    def pending(self) -> list[Architecture]:
        """Cells asked and not yet told, in the order they were asked."""
        return [arch for arch, _ in self._pending.values()]

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly, as JSON-ready data (cells as ``to_dict``)."""
        return {
            "name": self.name,
            "rng": self.rng.bit_generator.state,
            "seen": list(self._seen),
            "pending": [{"arch": a.to_dict(), "key": k, "info": i} for k, (a, i) in self._pending.items()],
            "n_told": self.n_told,
            **self._state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from ``state_dict``'s output (of a searcher built with the same options)."""
        if state.get("name") != self.name:
            raise InvalidOption(f"a {state.get('name')!r} searcher state cannot be loaded into {self.name!r}")
        try:
            self.rng.bit_generator.state = state["rng"]
        except (TypeError, ValueError) as err:
            raise InvalidOption(f"the saved generator state does not fit this rng: {err}") from None
        self._seen = dict.fromkeys(state["seen"])
        self._pending = {p["key"]: (self._cell(p["arch"]), dict(p["info"])) for p in state["pending"]}
        self.n_told = int(state["n_told"])
        self._load_state(state)

    # -- for subclasses -------------------------------------------------------------------
    def _propose(self) -> tuple[Architecture, str, dict[str, Any]]:
        """One new admissible cell, its key and its info."""
        raise NotImplementedError

    def _observe(self, evaluation: Evaluation, info: dict[str, Any]) -> None:
        """Learn from a result (``info``: what ``_propose`` said about the cell)."""

    def _state(self) -> dict[str, Any]:
        return {}

    def _load_state(self, state: dict[str, Any]) -> None:
        pass

    def _cell(self, spec: dict[str, Any]) -> Architecture:
        """A cell from its ``to_dict`` form."""
        return self.space.parse(spec)

    def _admissible(self, key: str) -> bool:
        """New in this run and evaluable."""
        return key not in self._seen and (self.candidates is None or key in self.candidates)

    def _random(self) -> tuple[Architecture, str]:
        """A uniformly random new cell (from the candidates where given)."""
        pool = self.candidates
        for _ in range(_REJECTION_TRIES):
            if pool is None:
                arch = self.space.sample(self.rng)
                key = self.space.key(arch)
            else:
                i = int(self.rng.integers(len(pool)))
                arch, key = pool.archs[i], pool.keys[i]
            if key not in self._seen:
                return arch, key
        return self._random_from_rest()

    def _random_from_rest(self) -> tuple[Architecture, str]:
        """Rejection keeps failing (most cells seen): draw from an explicit list of the rest."""
        if self.candidates is not None:
            rest = [i for i, k in enumerate(self.candidates.keys) if k not in self._seen]
            archs, keys = self.candidates.archs, self.candidates.keys
        else:
            try:
                archs = self.space.enumerate(progress=False)
            except NotImplementedError:
                raise InvalidOption(f"found no new {self.space.name} cell in {_REJECTION_TRIES} random draws") from None
            keys = [self.space.key(a) for a in archs]
            rest = [i for i, k in enumerate(keys) if k not in self._seen]
        if not rest:
            raise InvalidOption(f"every {self.space.name} cell that can be evaluated has been proposed")
        i = rest[int(self.rng.integers(len(rest)))]
        return archs[i], keys[i]

    def _mutant(self, parent: Architecture) -> tuple[Architecture, str] | None:
        """``space.mutate(parent)`` until the child is admissible (``max_tries`` at most)."""
        for _ in range(self.max_tries):
            child = self.space.mutate(parent, self.rng)
            key = self.space.key(child)
            if self._admissible(key):
                return child, key
        return None

    def _neighbours(self, arch: Architecture) -> list[tuple[Architecture, str]]:
        """``space.neighbours(arch)`` that can be evaluated (seen or not), in the space's order."""
        out = []
        for n in self.space.neighbours(arch):
            key = self.space.key(n)
            if self.candidates is None or key in self.candidates:
                out.append((n, key))
        return out
