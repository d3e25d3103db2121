"""GENNAPE's local search over computation graphs (``cg-local``; Mills et al., AAAI 2023, Table 7).

Starting from one network (the best CIFAR-10 cell of NB-101 or NB-201 in the paper), each of
``iterations`` rounds keeps the ``top_k`` networks found so far, mutates each of them
``children`` times (``archpred.gennape.mutations``: a chain of primitive ops replaced by a
sub-graph that keeps the HWC shapes) and ranks the new networks with a GENNAPE predictor. The
paper keeps "the current top-k best CGs based on predicted performance and FLOPs" without saying
how the two combine; here the top-k are taken by Pareto rank on (predicted accuracy, FLOPs),
ties by predicted accuracy, so both cheaper and better networks survive. The result is the
network of highest predicted accuracy among those with no more FLOPs than the start (the
paper's aim: fewer FLOPs, equal or better accuracy).

``CGLocalSearch`` is ask/tell like the engine's searchers (``ask()`` gives networks,
``tell(candidates, predictions)`` ranks them) but it is not in the engine's registry: that
engine's runs, stores and oracles hold cells of a search space, and these mutants are networks
outside every space (the paper's point). ``run_cg_search`` drives it with a GENNAPE model and
appends each finished round to a JSON-lines file at once, so an interrupted search resumes
after its last finished round.

Networks are handled as a start network plus a list of ``Edit``\\ s: the search builds them on
PyTorch's ``meta`` device (shapes without weights), and the same edits replay on a network with
real weights (``apply_edits``) to train it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from archpred.errors import CheckpointError, InvalidOption
from archpred.search.options import positive_int

if TYPE_CHECKING:
    from torch import nn
    from torch_geometric.data import Data

    from archpred.gennape.model import Gennape
    from archpred.gennape.mutations import Edit


@dataclass
class CGCandidate:
    """One network of the search: its edits from the start network, its CG and its numbers.

    ``predicted`` is ``None`` until told; ``round`` is the round that made it (0: the start).
    """

    edits: tuple[Edit, ...]
    flops: int
    params: int
    round: int
    parent: int | None = None
    predicted: float | None = None
    graph: Data | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "edits": [e.to_dict() for e in self.edits],
            "flops": self.flops,
            "params": self.params,
            "round": self.round,
            "parent": self.parent,
            "predicted": self.predicted,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CGCandidate:
        from archpred.gennape.mutations import Edit

        return cls(
            tuple(Edit.from_dict(e) for e in d["edits"]), int(d["flops"]), int(d["params"]), int(d["round"]),
            None if d.get("parent") is None else int(d["parent"]), None if d.get("predicted") is None else float(d["predicted"]),
        )  # fmt: skip


class CGLocalSearch:
    """Ask/tell local search over one network's CG mutants.

    Args:
        network: the start network (build it under ``torch.device("meta")``: only shapes are used).
        input_shape: its input (C, H, W).
        rng: the only source of randomness.
        top_k: networks kept (and mutated) per round.
        children: mutants made of each kept network per round.
        max_tries: tries at a mutant not seen before, per child.
    """

    def __init__(
        self,
        network: nn.Module,
        input_shape: Sequence[int],
        rng: np.random.Generator,
        top_k: int = 5,
        children: int = 4,
        max_tries: int = 20,
    ) -> None:
        from archpred.gennape.mutations import traced

        if not isinstance(rng, np.random.Generator):
            raise InvalidOption(f"rng must be a numpy Generator, got {type(rng).__name__}")
        self.input_shape = tuple(int(s) for s in input_shape)
        self.rng = rng
        self.top_k, self.children = positive_int("top_k", top_k), positive_int("children", children)
        self.max_tries = positive_int("max_tries", max_tries)
        self.start = traced(network, self.input_shape)
        self.pool: list[CGCandidate] = []  # every network told, in order; pool[0] is the start
        self.round = 0
        self._asked: list[CGCandidate] = []
        self._seen: set[tuple[Edit, ...]] = set()

    # -- the contract ---------------------------------------------------------------------
    def ask(self) -> list[CGCandidate]:
        """The next round's networks (round 0: the start network alone), with their CGs."""
        if self._asked:
            raise InvalidOption("tell the last round's predictions before asking again")
        if not self.pool:
            self._asked = [self._candidate((), self.start, parent=None)]
            return list(self._asked)
        self.round += 1
        made: list[CGCandidate] = []
        for parent in self.top():
            made.extend(self._mutants(parent))
        self._asked = made
        return list(made)

    def tell(self, candidates: Sequence[CGCandidate], predicted: Sequence[float] | np.ndarray) -> None:
        """The predictions for the networks of the last ``ask``, in its order."""
        if len(candidates) != len(self._asked) or any(a is not b for a, b in zip(candidates, self._asked)):
            raise InvalidOption("tell needs exactly the candidates of the last ask, in order")
        values = np.asarray(predicted, dtype=np.float64).reshape(-1)
        if len(values) != len(candidates) or not np.isfinite(values).all():
            raise InvalidOption(f"tell needs {len(candidates)} finite predictions, got {values.tolist()}")
        for cand, value in zip(candidates, values):
            cand.predicted, cand.graph = float(value), None  # the CG was for the predictor only
            self.pool.append(cand)
        self._asked = []

    def top(self) -> list[CGCandidate]:
        """The ``top_k`` networks told so far: by Pareto rank on (predicted accuracy up, FLOPs
        down), then by predicted accuracy."""
        ranks = pareto_ranks([c.predicted for c in self.pool], [c.flops for c in self.pool])
        order = sorted(range(len(self.pool)), key=lambda i: (ranks[i], -self.pool[i].predicted, i))
        return [self.pool[i] for i in order[: self.top_k]]

    def best(self) -> CGCandidate:
        """The mutant of highest predicted accuracy with no more FLOPs than the start (the start
        itself when no mutant qualifies)."""
        if not self.pool:
            raise InvalidOption("nothing told yet")
        start = self.pool[0]
        fits = [c for c in self.pool[1:] if c.flops <= start.flops]
        return max(fits, key=lambda c: c.predicted) if fits else start

    # -- state ---------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The pool, the round and the generator's state, JSON-ready."""
        if self._asked:
            raise InvalidOption("a search state is taken between rounds (after tell)")
        return {"round": self.round, "rng": self.rng.bit_generator.state, "pool": [c.to_dict() for c in self.pool]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.round = int(state["round"])
        self.rng.bit_generator.state = state["rng"]
        self.pool = [CGCandidate.from_dict(d) for d in state["pool"]]
        self._seen = {c.edits for c in self.pool}

    # -- internals -------------------------------------------------------------------------
    def _mutants(self, parent: CGCandidate) -> list[CGCandidate]:
        from archpred.gennape.mutations import apply_edit, apply_edits, random_edit

        base = apply_edits(self.start, parent.edits, self.input_shape)
        index = self.pool.index(parent)
        out = []
        for _ in range(self.children):
            for _ in range(self.max_tries):
                edits = (*parent.edits, random_edit(base, self.rng))
                if edits not in self._seen:
                    break
            else:
                continue
            self._seen.add(edits)
            # base is traced with its shapes already: one edit on it (apply_edit copies it)
            child = apply_edit(base, edits[-1], len(parent.edits), self.input_shape)
            out.append(self._candidate(edits, child, parent=index))
        return out

    def _candidate(self, edits: tuple[Edit, ...], gm: nn.Module, parent: int | None) -> CGCandidate:
        from archpred.gennape.graphs import graph_flops_params
        from archpred.networks.graph import SHAPE_FEATURES, to_computation_graph

        graph = to_computation_graph(gm, self.input_shape)
        flops, params = graph_flops_params(graph.op_type.numpy(), graph.x[:, -len(SHAPE_FEATURES) :].numpy())
        self._seen.add(edits)
        return CGCandidate(edits, flops, params, self.round, parent, graph=graph)


def pareto_ranks(scores: Sequence[float], costs: Sequence[float]) -> list[int]:
    """Non-dominated sorting: rank 0 is the front of (high score, low cost), rank 1 the front of
    what is left, and so on."""
    s, c = np.asarray(scores, dtype=np.float64), np.asarray(costs, dtype=np.float64)
    ranks = np.full(len(s), -1)
    left = np.arange(len(s))
    rank = 0
    while len(left):
        ls, lc = s[left], c[left]
        dominated = (
            (ls[None, :] >= ls[:, None])
            & (lc[None, :] <= lc[:, None])
            & ((ls[None, :] > ls[:, None]) | (lc[None, :] < lc[:, None]))
        ).any(1)
        ranks[left[~dominated]] = rank
        left = left[dominated]
        rank += 1
    return ranks.tolist()


def run_cg_search(
    model: Gennape,
    network: nn.Module,
    input_shape: Sequence[int],
    rng: np.random.Generator,
    iterations: int = 6,
    top_k: int = 5,
    children: int = 4,
    member: str | None = "cl+fcm+t",
    log: str | Path | None = None,
    progress: Callable[[int, int, CGCandidate], None] | None = None,
) -> CGLocalSearch:
    """Run the search for ``iterations`` rounds after the start, ranking with ``model``
    (``member``: one member's predictions; ``None``: the ensemble).

    ``log``: a JSON-lines file; each finished round is appended at once (with the searcher's
    state), and a rerun with the same file continues after the last round in it.
    ``progress(round, rounds, best)`` is called after each round.
    """
    search = CGLocalSearch(network, input_shape, rng, top_k=top_k, children=children)
    config = {
        "input_shape": list(search.input_shape),
        "top_k": search.top_k,
        "children": search.children,
        "member": member,
    }
    path = None if log is None else Path(log)
    if path is not None and path.is_file():
        state = _last_state(path, config)
        if state is not None:
            search.load_state_dict(state)
    total = positive_int("iterations", iterations)
    while search.round < total or not search.pool:
        asked = search.ask()
        if not asked:  # every mutation tried was seen before: nothing new to rank
            break
        predicted = model.predict([c.graph for c in asked], member=member)
        search.tell(asked, predicted)
        if path is not None:
            _append(path, {"round": search.round, "told": len(asked), "config": config, "state": search.state_dict()})
        if progress is not None:
            progress(search.round, total, search.best())
    return search


def _append(path: Path, record: dict[str, Any]) -> None:
    """One line, on a line of its own even after a line a kill cut short."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as f:
        cut = False
        if f.seek(0, 2) > 0:
            f.seek(-1, 2)
            cut = f.read(1) != b"\n"
        f.write((("\n" if cut else "") + json.dumps(record) + "\n").encode())
        f.flush()
        os.fsync(f.fileno())


def _last_state(path: Path, config: dict[str, Any]) -> dict[str, Any] | None:
    """The searcher state of the log's last round (a last line cut by a kill is skipped); a
    log of other settings, or a file that is no such log, is refused."""
    lines = path.read_text(encoding="utf-8").splitlines()
    records = []
    for i, line in enumerate(lines):
        try:
            record = json.loads(line)
            records.append((record["config"], record["state"]))
            if not isinstance(record["state"]["pool"], list):
                raise TypeError
        except (json.JSONDecodeError, KeyError, TypeError):
            if i == len(lines) - 1 and records:
                break
            raise CheckpointError(f"{path} is not a cg-local search log (line {i + 1})") from None
    if not records:
        return None
    logged, state = records[-1]
    if logged != config:
        diff = ", ".join(f"{k}={logged.get(k)!r} (asked {v!r})" for k, v in config.items() if logged.get(k) != v)
        raise InvalidOption(f"{path} is a search with other settings: {diff}; use another log file")
    return state
