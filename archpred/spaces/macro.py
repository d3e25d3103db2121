"""NAS-Bench-Macro (Su et al., CVPR 2021): 8 layers, each one of 3 choices (3^8 = 6,561 networks).

A network is a chain of 8 layers in three stages of 2, 3 and 3 layers; the first layer of a stage
halves the resolution and doubles the width. The choices per layer are

* ``0`` ``identity``: nothing (at a stage's first layer, a strided 1x1 conv + BN that matches shapes),
* ``1`` ``ir_3x3_t3``: MobileNetV2 inverted residual, 3x3 depthwise kernel, expansion 3,
* ``2`` ``ir_5x5_t6``: MobileNetV2 inverted residual, 5x5 depthwise kernel, expansion 6.

The benchmark keys a network by the 8 choice digits, e.g. ``"02012100"``. The node-labelled DAG
form is the chain input -> layer 1 -> ... -> layer 8 -> output (10 vertices).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from archpred.errors import InvalidArchitecture
from archpred.spaces.base import INPUT, OUTPUT, Architecture, SearchSpace, check_cell_text, check_matrix, parse_json

MACRO_OPS = ("identity", "ir_3x3_t3", "ir_5x5_t6")
N_LAYERS = 8
STAGES = (2, 3, 3)
ALIASES = {"id": "identity", "skip": "identity", "mb3_k3": "ir_3x3_t3", "mb6_k5": "ir_5x5_t6"}


def _chain(n: int) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(int(j == i + 1) for j in range(n)) for i in range(n))


CHAIN = _chain(N_LAYERS + 2)


@dataclass(frozen=True)
class MacroArch(Architecture):
    """One NAS-Bench-Macro network: ``choices[i]`` in 0..2 is layer i's op index."""

    space = "macro"
    choices: tuple[int, ...]

    @property
    def adjacency(self) -> tuple[tuple[int, ...], ...]:
        return CHAIN

    @property
    def ops(self) -> tuple[str, ...]:
        return (INPUT, *(MACRO_OPS[c] for c in self.choices), OUTPUT)

    @property
    def key(self) -> str:
        """The benchmark's 8-digit key."""
        return "".join(map(str, self.choices))

    def to_dict(self) -> dict[str, Any]:
        return {"arch": self.key}

    def __repr__(self) -> str:
        return f"MacroArch({self.key!r})"


class MacroSpace(SearchSpace):
    """The NAS-Bench-Macro space (6,561 networks); ``key`` is the 8-digit benchmark key."""

    name = "macro"
    ops = MACRO_OPS
    max_vertices = N_LAYERS + 2
    size = 3**N_LAYERS
    stages = STAGES

    def cell(
        self,
        arch: Any = None,
        *,
        layers: Any = None,
        ops: Any = None,
        adjacency: Any = None,
        key: Any = None,
        **extra: Any,
    ) -> MacroArch:
        """From the 8-digit key (``"02012100"``), a list of 8 choices (digits or op names),
        ``layers=``/``key=``, or the 10-vertex chain form (``adjacency=`` and ``ops=``)."""
        if extra:
            raise InvalidArchitecture(f"unexpected field(s) for a macro cell: {', '.join(map(repr, sorted(extra)))}")
        if adjacency is not None:
            return self._from_graph(adjacency, ops)
        spec = next((x for x in (arch, key, layers, ops) if x is not None), None)
        if spec is None:
            raise InvalidArchitecture("a macro cell needs an 8-digit key such as '02012100', or 8 layer choices")
        if isinstance(spec, str):
            return self._from_key(spec)
        if isinstance(spec, (list, tuple, np.ndarray)):
            return self._from_choices(list(spec))
        raise InvalidArchitecture(
            f"a macro cell must be an 8-digit key or a list of 8 choices, got {type(spec).__name__}"
        )

    def parse(self, text: str | bytes | dict | list) -> MacroArch:
        """An 8-digit key as plain text, or JSON (an object of ``cell``'s fields, a list, a string)."""
        check_cell_text(text)
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        if isinstance(text, str):
            stripped = text.strip()
            if stripped.isdigit():
                return self._from_key(stripped)
        spec = parse_json(text)
        if isinstance(spec, dict):
            return self.cell(**spec)
        if isinstance(spec, (list, str)):
            return self.cell(spec)
        raise InvalidArchitecture(f"a macro cell must be a JSON object, list or key, got {type(spec).__name__}")

    def _from_key(self, text: str) -> MacroArch:
        text = text.strip()
        if len(text) != N_LAYERS:
            raise InvalidArchitecture(f"a macro key has {N_LAYERS} digits, got {len(text)}: {text!r}")
        for i, c in enumerate(text):
            if c not in "012":
                raise InvalidArchitecture(f"macro key digit {i} is {c!r}; each digit must be 0, 1 or 2")
        return MacroArch(tuple(int(c) for c in text))

    def _from_choices(self, values: list[Any]) -> MacroArch:
        if len(values) != N_LAYERS:
            raise InvalidArchitecture(f"a macro network has {N_LAYERS} layers, got {len(values)}")
        out = []
        for i, v in enumerate(values):
            if isinstance(v, str):
                name = ALIASES.get(v, v)
                if name not in MACRO_OPS:
                    raise InvalidArchitecture(f"unknown op {v!r} in layer {i}; choose from {', '.join(MACRO_OPS)}")
                out.append(MACRO_OPS.index(name))
            elif isinstance(v, (int, np.integer)) and not isinstance(v, bool) and 0 <= v < len(MACRO_OPS):
                out.append(int(v))
            else:
                raise InvalidArchitecture(f"layer {i} choice {v!r} must be 0, 1 or 2 (or an op name)")
        return MacroArch(tuple(out))

    def _from_graph(self, adjacency: Any, ops: Any) -> MacroArch:
        rows = check_matrix(adjacency)
        n = N_LAYERS + 2
        if not isinstance(ops, (list, tuple)) or len(ops) != len(rows):
            raise InvalidArchitecture(f"size mismatch: adjacency is {len(rows)}x{len(rows)} but ops do not match")
        if len(rows) != n or tuple(map(tuple, rows)) != CHAIN:
            raise InvalidArchitecture(f"adjacency is not the {n}-vertex chain of a macro network")
        if ops[0] != INPUT or ops[-1] != OUTPUT:
            raise InvalidArchitecture("the first vertex must be 'input' and the last 'output'")
        return self._from_choices(list(ops[1:-1]))

    # -- identity -------------------------------------------------------------------------
    def key(self, arch: MacroArch) -> str:
        """The benchmark's 8-digit key."""
        self.check_own(arch)
        return arch.key

    # -- exploration ----------------------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> MacroArch:
        """Uniform over the 6,561 networks: each layer's choice drawn independently."""
        return MacroArch(tuple(int(c) for c in rng.integers(0, len(MACRO_OPS), size=N_LAYERS)))

    def mutate(self, arch: MacroArch, rng: np.random.Generator) -> MacroArch:
        """One random layer given a different random choice."""
        layer = int(rng.integers(N_LAYERS))
        choices = [c for c in range(len(MACRO_OPS)) if c != arch.choices[layer]]
        new = list(arch.choices)
        new[layer] = int(rng.choice(choices))
        return MacroArch(tuple(new))

    def neighbours(self, arch: MacroArch) -> list[MacroArch]:
        """The 16 networks with one layer's choice changed."""
        out = []
        for layer in range(N_LAYERS):
            for c in range(len(MACRO_OPS)):
                if c != arch.choices[layer]:
                    new = list(arch.choices)
                    new[layer] = c
                    out.append(MacroArch(tuple(new)))
        return out

    def enumerate(self, progress: bool = True) -> list[MacroArch]:
        """All 6,561 networks in key order (lexicographic digits)."""
        return [MacroArch(c) for c in itertools.product(range(len(MACRO_OPS)), repeat=N_LAYERS)]
