"""What every search space provides, and the encodings built on its node-labelled DAG form.

Every architecture, whatever its space, is presented to models as a node-labelled DAG
(``adjacency``, ``ops``) whose vertex 0 is ``input`` and last vertex is ``output``; NB-201
turns its edge operations into vertices for this. Architectures are immutable values.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from archpred.errors import InvalidArchitecture, InvalidOption
from archpred.spaces.hashing import graph_hash

# Searches hash the same cells again and again (a parent before each mutation, the child twice):
# cells are immutable tuples, so their hashes are memoised (64k entries, ~10 MB at most).


@lru_cache(maxsize=1 << 16)
def _cached_hash(adjacency: tuple[tuple[int, ...], ...], labels: tuple[int, ...]) -> str:
    return graph_hash(adjacency, labels)


if TYPE_CHECKING:  # torch and PyG load on first use, so the CLI starts fast
    from torch_geometric.data import Data

    from archpred.spaces.arrays import SpaceArrays

INPUT, OUTPUT = "input", "output"
ENCODINGS = ("onehot", "path", "graph")


@dataclass(frozen=True)
class Architecture:
    """Base of all architecture values; subclasses are frozen dataclasses."""

    space: ClassVar[str] = ""

    @property
    def adjacency(self) -> tuple[tuple[int, ...], ...]:
        """V x V upper-triangular 0/1 matrix of the node-labelled DAG, ``[u][v] = 1`` for u -> v."""
        raise NotImplementedError

    @property
    def ops(self) -> tuple[str, ...]:
        """V vertex labels: ``input``, the interior ops, ``output``."""
        raise NotImplementedError

    @property
    def num_vertices(self) -> int:
        """V, the vertex count of the node-labelled DAG."""
        return len(self.ops)

    @property
    def matrix(self) -> np.ndarray:
        """Adjacency as an ``int8`` array of shape (V, V)."""
        return np.asarray(self.adjacency, dtype=np.int8)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields that ``space.cell(**d)`` accepts back."""
        return {"adjacency": [list(r) for r in self.adjacency], "ops": list(self.ops)}

    def to_json(self) -> str:
        """``to_dict`` as JSON text (what ``space.parse`` reads)."""
        return json.dumps(self.to_dict())


# The largest cell any space has is a few hundred characters of JSON: text far longer than this
# (a pasted file, a bomb) is refused before it is parsed.
MAX_CELL_CHARS = 100_000


def check_cell_text(text: Any) -> None:
    """Refuse cell text that is not text or far too long for any cell."""
    if isinstance(text, (str, bytes)) and len(text) > MAX_CELL_CHARS:
        raise InvalidArchitecture(f"a cell of {len(text):,} characters; no cell needs more than {MAX_CELL_CHARS:,}")


def parse_json(text: str | bytes | dict | list) -> Any:
    """Parse a cell given as JSON text; already-parsed objects pass through."""
    if isinstance(text, (dict, list)):
        return text
    if not isinstance(text, (str, bytes, bytearray)):
        raise InvalidArchitecture(f"a cell must be given as JSON text, got {type(text).__name__}")
    check_cell_text(text)
    try:
        return json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InvalidArchitecture(f"malformed JSON: {err}") from None
    except RecursionError:
        raise InvalidArchitecture("malformed JSON: nested too deeply for a cell") from None


def check_matrix(adjacency: Any) -> list[list[int]]:
    """A square 0/1 matrix as lists of ints, or an ``InvalidArchitecture`` saying why not."""
    if isinstance(adjacency, np.ndarray):
        adjacency = adjacency.tolist()
    if not isinstance(adjacency, (list, tuple)) or not all(isinstance(r, (list, tuple, np.ndarray)) for r in adjacency):
        raise InvalidArchitecture("adjacency must be a square matrix given as a list of lists of 0/1")
    n = len(adjacency)
    rows = []
    for i, row in enumerate(adjacency):
        row = list(row)
        if len(row) != n:
            raise InvalidArchitecture(f"adjacency is not square: row {i} has {len(row)} entries, expected {n}")
        for j, x in enumerate(row):
            if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)) or x not in (0, 1):
                raise InvalidArchitecture(f"adjacency[{i}][{j}] = {x!r} is not 0 or 1")
        rows.append([int(x) for x in row])
    return rows


def check_dag(rows: list[list[int]]) -> None:
    """Raise for self-loops, cycles and edges that point backwards (NB-style upper-triangular form)."""
    n = len(rows)
    for i in range(n):
        if rows[i][i]:
            raise InvalidArchitecture(f"self-loop at vertex {i}")
    backward = [(i, j) for i in range(n) for j in range(i) if rows[i][j]]
    if not backward:
        return
    import networkx as nx

    graph = nx.DiGraph([(i, j) for i in range(n) for j in range(n) if rows[i][j]])
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        i, j = backward[0]
        raise InvalidArchitecture(
            f"adjacency is not upper-triangular: edge {i} -> {j} points backwards "
            "(number the vertices in topological order)"
        ) from None
    path = " -> ".join(str(u) for u, _ in cycle) + f" -> {cycle[0][0]}"
    raise InvalidArchitecture(f"cycle: {path}")


def on_path_vertices(rows: Sequence[Sequence[int]]) -> set[int]:
    """Vertices that lie on some path from vertex 0 to the last vertex."""
    n = len(rows)
    forward, stack = {0}, [0]
    while stack:
        u = stack.pop()
        for v in range(n):
            if rows[u][v] and v not in forward:
                forward.add(v)
                stack.append(v)
    backward, stack = {n - 1}, [n - 1]
    while stack:
        v = stack.pop()
        for u in range(n):
            if rows[u][v] and u not in backward:
                backward.add(u)
                stack.append(u)
    return forward & backward


class SearchSpace(ABC):
    """A search space: construction, validity, hashing, sampling, mutation and encodings.

    Subclasses set ``name``, ``ops`` (the interior operation choices) and ``max_vertices``
    (of the node-labelled DAG form), and implement the abstract methods.
    """

    name: ClassVar[str]
    ops: ClassVar[tuple[str, ...]]
    max_vertices: ClassVar[int]

    # -- construction ---------------------------------------------------------------------
    @abstractmethod
    def cell(self, *args: Any, **kwargs: Any) -> Architecture:
        """Build a validated architecture; raises ``InvalidArchitecture``."""

    def parse(self, text: str | bytes | dict | list) -> Architecture:
        """A cell from user text: a JSON object of ``cell``'s fields, a JSON list or string
        for spaces that take one positional form (NB-201 strings, ENAS layers)."""
        check_cell_text(text)
        if isinstance(text, str) and text.strip().startswith("|"):
            return self.cell(text.strip())
        spec = parse_json(text)
        if isinstance(spec, dict):
            return self.cell(**spec)
        if isinstance(spec, (list, str)):
            return self.cell(spec)
        raise InvalidArchitecture(f"a {self.name} cell must be a JSON object, got {type(spec).__name__}")

    def is_valid(self, *args: Any, **kwargs: Any) -> bool:
        """Whether ``cell(*args, **kwargs)`` would succeed."""
        try:
            self.cell(*args, **kwargs)
        except InvalidArchitecture:
            return False
        return True

    # -- identity -------------------------------------------------------------------------
    def labels(self, arch: Architecture) -> list[int]:
        """Integer vertex labels: -1 input, -2 output, else the index into ``ops``."""
        return [-1 if o == INPUT else -2 if o == OUTPUT else self.ops.index(o) for o in arch.ops]

    def hash(self, arch: Architecture) -> str:
        """An isomorphism-invariant id (the WL md5 fingerprint of NAS-Bench-101)."""
        self.check_own(arch)
        return _cached_hash(arch.adjacency, tuple(self.labels(arch)))

    def key(self, arch: Architecture) -> str:
        """The id a benchmark table uses for this architecture (default: ``hash``)."""
        return self.hash(arch)

    def check_own(self, arch: Any) -> None:
        """Raise ``InvalidArchitecture`` unless ``arch`` is an architecture of this space."""
        if not isinstance(arch, Architecture) or arch.space != self.name:
            got = f"an {arch.space} architecture" if isinstance(arch, Architecture) else type(arch).__name__
            raise InvalidArchitecture(f"expected an {self.name} architecture, got {got}")

    # -- exploration ----------------------------------------------------------------------
    @abstractmethod
    def sample(self, rng: np.random.Generator) -> Architecture:
        """One random valid architecture drawn with ``rng``."""

    @abstractmethod
    def mutate(self, arch: Architecture, rng: np.random.Generator) -> Architecture:
        """A new valid architecture, different from ``arch``, one small random edit away."""

    @abstractmethod
    def neighbours(self, arch: Architecture) -> list[Architecture]:
        """All distinct architectures one edit away (an op changed, an edge flipped)."""

    def enumerate(self, progress: bool = True) -> list[Architecture]:
        """Every architecture of the space (spaces small enough to list override this)."""
        raise NotImplementedError(f"the {self.name} space is too large to enumerate")

    def enumerate_hashed(self, progress: bool = True) -> list[tuple[Architecture, str]]:
        """Every architecture with its ``hash`` (spaces with a cache of hashes override this)."""
        return [(arch, self.hash(arch)) for arch in self.enumerate(progress=progress)]

    def arrays(self, progress: bool = True) -> SpaceArrays:
        """Every architecture as padded graphs with its key, in ``enumerate`` order (spaces
        with a faster route than padding each cell override this)."""
        from archpred.spaces.arrays import listed_arrays

        return listed_arrays(self, self.enumerate(progress=progress))

    def iter_sample(self, n: int, rng: np.random.Generator) -> Iterator[Architecture]:
        """``n`` independent draws of ``sample`` (duplicates possible)."""
        for _ in range(n):
            yield self.sample(rng)

    # -- encodings ------------------------------------------------------------------------
    @property
    def node_types(self) -> tuple[str, ...]:
        """Vocabulary of the node-labelled form: input, the ops, output."""
        return (INPUT, *self.ops, OUTPUT)

    def node_type_ids(self, arch: Architecture) -> list[int]:
        """Index of every vertex's label in ``node_types`` (0 input, 1..len(ops) ops, last output)."""
        types = self.node_types
        return [types.index(o) for o in arch.ops]

    def padded(self, arch: Architecture) -> tuple[np.ndarray, np.ndarray]:
        """Adjacency (M, M) and node-type ids (M,) padded to ``max_vertices``.

        Padding vertices are inserted before the output, have no edges and type id -1.
        """
        m, v = self.max_vertices, arch.num_vertices
        order = list(range(v - 1)) + [m - 1]  # where each real vertex goes
        adj = np.zeros((m, m), dtype=np.int8)
        adj[np.ix_(order, order)] = arch.matrix
        types = np.full(m, -1, dtype=np.int64)
        types[order] = self.node_type_ids(arch)
        return adj, types

    def encode(self, arch: Architecture, kind: str = "onehot") -> np.ndarray | Data:  # noqa: F821
        """Encode one architecture.

        ``"onehot"``: upper-triangular adjacency bits then a one-hot op per interior vertex
        (padded). ``"path"``: BANANAS path encoding, one bit per input-to-output op sequence.
        ``"graph"``: a ``torch_geometric.data.Data``.
        """
        if kind == "onehot":
            return self.onehot(arch)
        if kind == "path":
            return self.path_encoding(arch)
        if kind == "graph":
            return self.to_data(arch)
        raise InvalidOption(f"unknown encoding {kind!r}; choose from {', '.join(ENCODINGS)}")

    def encode_many(self, archs: Sequence[Architecture], kind: str = "onehot") -> np.ndarray:
        """``encode`` of each architecture stacked into a float32 array (N, D); vector kinds only."""
        return np.stack([self.encode(a, kind) for a in archs]).astype(np.float32)

    def onehot(self, arch: Architecture) -> np.ndarray:
        """The ``onehot`` encoding: M (M - 1) / 2 adjacency bits of the padded form, then
        (M - 2) x len(ops) op one-hots of its interior slots (zero for padding), float32."""
        adj, types = self.padded(arch)
        m, k = self.max_vertices, len(self.ops)
        bits = adj[np.triu_indices(m, 1)].astype(np.float32)
        onehot = np.zeros((m - 2, k), dtype=np.float32)
        interior = types[1:-1]
        real = interior >= 0
        onehot[np.flatnonzero(real), interior[real] - 1] = 1.0  # type id 0 is input
        return np.concatenate([bits, onehot.ravel()])

    def path_length_limit(self) -> int:
        """Longest op sequence the ``path`` encoding has bits for."""
        return self.max_vertices - 2

    def path_encoding(self, arch: Architecture) -> np.ndarray:
        """BANANAS path encoding: one float32 bit per op sequence of length 0..``path_length_limit``,
        set when some input -> output path passes exactly those ops; longer paths are dropped."""
        k, limit = len(self.ops), self.path_length_limit()
        offsets = np.cumsum([0] + [k**length for length in range(limit + 1)])
        out = np.zeros(offsets[-1], dtype=np.float32)
        labels, rows, last = self.labels(arch), arch.adjacency, arch.num_vertices - 1

        def walk(v: int, seq: list[int]) -> None:
            if v == last:
                if len(seq) <= limit:
                    index = 0
                    for op in seq:
                        index = index * k + op
                    out[offsets[len(seq)] + index] = 1.0
                return
            for w in range(len(rows)):
                if rows[v][w]:
                    walk(w, seq if w == last else seq + [labels[w]])

        walk(0, [])
        return out

    def to_data(self, arch: Architecture) -> Data:
        """PyG graph: ``x`` one-hot node types (V, len(node_types)), ``node_type`` (V,),
        directed ``edge_index`` (2, E) in the cell's edge direction."""
        import torch
        from torch_geometric.data import Data

        types = torch.tensor(self.node_type_ids(arch), dtype=torch.long)
        src, dst = np.nonzero(arch.matrix)
        edge_index = torch.tensor(np.stack([src, dst]), dtype=torch.long)
        x = torch.nn.functional.one_hot(types, len(self.node_types)).float()
        return Data(x=x, node_type=types, edge_index=edge_index, num_nodes=len(types))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
