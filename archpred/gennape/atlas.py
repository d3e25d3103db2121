"""GENNAPE's atlas: the CL embeddings of several architecture families on one 2-D map.

``embedding_map(model, {"nb101": 150, "nb201": 150, ...})`` samples that many benchmark cells
of each family (``family_sample``), builds their computation graphs (CGs), embeds them with the
model's contrastive encoder and projects all of them together with PCA, t-SNE or UMAP
(``archpred.vae.projection``). Each row of the returned table is one CG: its family (``upload``
for the ``extra`` networks of a user), key, map position, FCM memberships and hard cluster, real
accuracy (fractions; NaN for uploads), GENNAPE's predicted accuracy, the CL+FCM+T heads' own
predictions, FLOPs, parameters and the embedding itself (for nearest-neighbour look-ups).

Building a CG costs 0.1-0.3 s per cell on one CPU thread (NB-101 the slowest), so everything is
cached on disk under ``cache_dir("gennape", "atlas")`` as parquet (no pickle), written atomically:
one file per (model, family, cells, seed, data folder) -- the slow part, shared by every
projection and every upload -- and one per finished map. CGs that ``families.load_family``
already cached in its shards are read from there instead of being built again.

GENNAPE's ensemble standardises its members' scores over the set it predicts, so "predicted
accuracy" is predicted per family sample (each family is one population) and per upload alone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from archpred.errors import DataNotFound, InvalidOption
from archpred.gennape.families import FAMILIES, FamilySpec, cached_graphs, family_metric
from archpred.gennape.graphs import GraphSet

UPLOAD = "upload"
METHODS = {"tsne": "t-SNE", "umap": "UMAP", "pca": "PCA"}  # our names -> vae.projection's
DEFAULT_CELLS = 150
MIN_POINTS = 5  # t-SNE and UMAP need a few neighbours; PCA two rows
CLUSTER_MEMBER = "cl+fcm+t"  # whose clusters and heads the map shows
FORMAT_VERSION = 1
COLUMNS = (
    "family",
    "key",
    "x",
    "y",
    "cluster",
    "memberships",
    "accuracy",
    "predicted",
    "heads",
    "flops",
    "params",
    "embedding",
)

Progress = Callable[[str, int, int], None]  # (what, done, total)


def _quiet(what: str, done: int, total: int) -> None:
    """The default progress callback: says nothing."""


# -- families ----------------------------------------------------------------------------------
def family_spec(name: str) -> FamilySpec:
    if name not in FAMILIES:
        raise InvalidOption(f"unknown family {name!r}; choose from {', '.join(FAMILIES)}")
    return FAMILIES[name]


def family_available(name: str) -> bool:
    """Whether the family's benchmark data is here (cheap: nothing is loaded)."""
    from archpred.data import is_available

    return is_available(family_spec(name).benchmark)


def family_sample(name: str, n: int, seed: int = 0) -> tuple[list, np.ndarray, list[str]]:
    """``n`` random cells of a family's benchmark (without replacement, table order), with their
    accuracies as fractions and their benchmark keys. Cells without a finite accuracy are left
    out. Raises ``DataNotFound`` where the family's data is missing."""
    from archpred.data import load_benchmark

    if int(n) < 1:
        raise InvalidOption(f"cells per family must be at least 1, got {n}")
    bench = load_benchmark(family_spec(name).benchmark)
    accuracy = np.asarray(bench[family_metric(family_spec(name), bench)], dtype=np.float64)
    if np.nanmax(accuracy) > 1.5:  # some tables are in %
        accuracy = accuracy / 100.0
    ok = np.flatnonzero(np.isfinite(accuracy))
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(ok, min(int(n), len(ok)), replace=False))
    return [bench.archs[r] for r in rows], accuracy[rows], [bench.keys[r] for r in rows]


def family_graphs(name: str, archs: list, keys: list[str], progress: Progress = _quiet) -> GraphSet:
    """The CGs of a family's cells, in order: from ``load_family``'s shards where cached, else
    built (``families.build_graph``), reporting ``progress(what, done, total)`` per cell."""
    from archpred.gennape.families import build_graph

    what = f"{name}: computation graphs"
    cached = cached_graphs(name, keys)
    parts: list[GraphSet] = []
    pending: list[tuple[Any, str]] = []

    def flush() -> None:
        if pending:
            graphs = [build_graph(a, a.space) for a, _ in pending]
            parts.append(GraphSet.from_graphs(graphs, [k for _, k in pending]))
            pending.clear()

    for i, (arch, key) in enumerate(zip(archs, keys)):
        if key in cached:
            flush()
            shard, row = cached[key]
            parts.append(shard.subset([row]))
        else:
            pending.append((arch, key))
            if len(pending) >= 10:
                flush()
        progress(what, i + 1, len(keys))
    flush()
    return GraphSet.concat(parts)


# -- what the model says about a set of CGs ---------------------------------------------------
def cluster_member(model: Any) -> Any | None:
    """The member whose FCM clusters the map shows (CL+FCM+T, else any member with clusters)."""
    members = model.members
    if getattr(members.get(CLUSTER_MEMBER), "clusters", None) is not None:
        return members[CLUSTER_MEMBER]
    return next((m for m in members.values() if getattr(m, "clusters", None) is not None), None)


def graph_table(model: Any, graphs: GraphSet, family: str, accuracy: np.ndarray | None = None) -> pd.DataFrame:
    """One row per CG of ``graphs`` (one population: GENNAPE's ensemble is standardised over
    it): every ``COLUMNS`` entry except the map position (``x``, ``y`` are NaN)."""
    n = len(graphs)
    feats = model.features(graphs)
    predicted = model.combine(model.member_scores(feats, list(model.weights))) if n else np.zeros(0)
    member = cluster_member(model)
    if member is not None and n:
        u = member.clusters.memberships(feats.embedding, feats.flops)
    else:
        u = np.zeros((n, 0))
    heads = model.head_predictions(graphs) if CLUSTER_MEMBER in model.members and n else np.zeros((n, 0))
    acc = np.full(n, np.nan) if accuracy is None else np.asarray(accuracy, dtype=np.float64)
    return pd.DataFrame(
        {
            "family": [family] * n,
            "key": list(graphs.keys),
            "x": np.full(n, np.nan),
            "y": np.full(n, np.nan),
            "cluster": u.argmax(axis=1) if u.shape[1] else np.full(n, -1),
            "memberships": list(u),
            "accuracy": acc,
            "predicted": np.asarray(predicted, dtype=np.float64),
            "heads": list(np.asarray(heads, dtype=np.float64)),
            "flops": np.asarray(graphs.flops, dtype=np.float64),
            "params": np.asarray(graphs.params, dtype=np.float64),
            "embedding": list(np.asarray(feats.embedding, dtype=np.float32)),
        },
        columns=list(COLUMNS),
    )


# -- the disk cache ---------------------------------------------------------------------------
def _hash_value(h: Any, value: Any) -> None:
    """Feed a model's state (tensors, arrays, containers, plain values) into a hash."""
    import torch

    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().contiguous()
        h.update(f"t{value.dtype}{tuple(value.shape)}".encode())
        h.update(value.view(-1).view(torch.uint8).numpy().tobytes() if value.numel() else b"")
    elif isinstance(value, np.ndarray):
        h.update(f"a{value.dtype}{value.shape}".encode())
        h.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, dict):
        for k in sorted(value, key=str):
            h.update(f"k{k!s}".encode())
            _hash_value(h, value[k])
    elif isinstance(value, (list, tuple)):
        h.update(f"l{len(value)}".encode())
        for v in value:
            _hash_value(h, v)
    else:
        h.update(f"v{value!r}".encode())


def model_digest(model: Any) -> str:
    """A digest of everything a model computes with: the encoder's weights, every member's
    state and the ensemble weights (two models that predict alike share map files; a
    fine-tuned or retrained model never reads another's)."""
    h = hashlib.sha256()
    _hash_value(h, model.encoder.state_dict())
    for name in sorted(model.members):
        h.update(name.encode())
        _hash_value(h, model.members[name].state())
    _hash_value(h, dict(model.weights))
    return h.hexdigest()[:20]


def graphs_digest(graphs: GraphSet | None) -> str:
    """A digest of a ``GraphSet``'s contents (``""`` for none)."""
    if graphs is None or not len(graphs):
        return ""
    h = hashlib.sha256()
    for name in ("op_type", "numeric", "edges", "node_ptr", "edge_ptr"):
        _hash_value(h, np.asarray(getattr(graphs, name)))
    _hash_value(h, list(graphs.keys))
    return h.hexdigest()[:20]


def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]


def atlas_dir() -> Path:
    from archpred.paths import cache_dir

    return cache_dir("gennape", "atlas")


def _family_file(digest: str, name: str, n: int, seed: int) -> Path:
    from archpred.paths import data_dir

    key = _digest(FORMAT_VERSION, digest, name, int(n), int(seed), str(data_dir()))
    return atlas_dir() / f"family_{name}_{int(n)}_{key}.parquet"


def _map_file(digest: str, families: dict[str, int], method: str, seed: int, extra: GraphSet | None) -> Path:
    from archpred.paths import data_dir

    wanted = sorted((k, int(v)) for k, v in families.items())
    key = _digest(FORMAT_VERSION, digest, wanted, method, int(seed), graphs_digest(extra), str(data_dir()))
    return atlas_dir() / f"map_{method}_{key}.parquet"


def _read(path: Path) -> pd.DataFrame | None:
    """A cached table, or ``None`` when absent or unreadable (then it is computed again)."""
    if not path.is_file():
        return None
    try:
        frame = pd.read_parquet(path)
    except Exception:
        return None
    return frame if list(frame.columns) == list(COLUMNS) else None


def _write(path: Path, frame: pd.DataFrame) -> None:
    from archpred.artifacts import atomic_write

    atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))


def family_table(
    model: Any, name: str, n: int, seed: int = 0, progress: Progress = _quiet, digest: str = ""
) -> pd.DataFrame:
    """``graph_table`` of ``family_sample(name, n, seed)``, from the disk cache or computed
    (with progress while CGs are built) and stored."""
    digest = digest or model_digest(model)
    path = _family_file(digest, name, n, seed)
    frame = _read(path)
    if frame is not None:
        return frame
    archs, accuracy, keys = family_sample(name, n, seed)
    graphs = family_graphs(name, archs, keys, progress)
    progress(f"{name}: embedding", 0, 1)
    frame = graph_table(model, graphs, name, accuracy)
    progress(f"{name}: embedding", 1, 1)
    _write(path, frame)
    return frame


def missing_tables(model: Any, families: dict[str, int], seed: int = 0, digest: str = "") -> list[str]:
    """Families (with data here) whose tables are not cached yet: a map of them builds CGs."""
    digest = digest or model_digest(model)
    return [
        name
        for name, n in families.items()
        if family_available(name) and not _family_file(digest, name, n, seed).is_file()
    ]


def _method(method: str) -> str:
    key = str(method).lower().replace("-", "")
    if key not in METHODS:
        raise InvalidOption(f"unknown projection {method!r}; choose from {', '.join(METHODS)}")
    return key


def embedding_map(
    model: Any,
    families: dict[str, int],
    method: str = "tsne",
    seed: int = 0,
    extra: GraphSet | None = None,
    progress: Progress = _quiet,
    digest: str = "",
) -> pd.DataFrame:
    """The map of ``families`` (name -> cells) and of the ``extra`` networks (family ``upload``).

    Families whose benchmark data is missing are skipped; ``frame.attrs["notes"]`` says which.
    Cached on disk by (model digest, families and cells, method, seed, the uploads, data folder).

    Args:
        model: a ``Gennape``.
        families: cells to sample per family (``FAMILIES`` names).
        method: ``"tsne"``, ``"umap"`` or ``"pca"`` (``"t-SNE"`` etc. also work).
        seed: the cell samples and the projection.
        extra: a user's networks (``inputs.to_graphs``), shown as ``upload``.
        progress: ``progress(what, done, total)`` while CGs are built, embedded and projected.
        digest: ``model_digest(model)`` when the caller knows it already (it costs a pass over
            the weights).

    Raises:
        InvalidOption: an unknown family or method, or fewer than ``MIN_POINTS`` networks.
    """
    method = _method(method)
    for name in families:
        family_spec(name)
    digest = digest or model_digest(model)
    path = _map_file(digest, families, method, seed, extra)
    frame = _read(path)
    if frame is not None:
        return frame
    tables, notes = [], []
    for name, n in families.items():
        if not family_available(name):
            notes.append(f"{name}: no data here (needs the shared {family_spec(name).benchmark} file); left out")
            continue
        try:
            tables.append(family_table(model, name, n, seed, progress, digest))
        except DataNotFound as err:
            notes.append(f"{name}: {err}; left out")
    if extra is not None and len(extra):
        tables.append(graph_table(model, extra, UPLOAD))
    frame = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=list(COLUMNS))
    if len(frame) < MIN_POINTS:
        raise InvalidOption(f"a map needs at least {MIN_POINTS} networks; {len(frame)} are available")
    progress(f"{METHODS[method]} projection of {len(frame):,} embeddings", 0, 1)
    xy = project(np.stack(frame["embedding"].to_numpy()), method, seed)
    progress(f"{METHODS[method]} projection of {len(frame):,} embeddings", 1, 1)
    frame["x"], frame["y"] = xy[:, 0], xy[:, 1]
    frame.attrs["notes"] = notes
    _write(path, frame)
    return frame


def project(x: np.ndarray, method: str, seed: int = 0) -> np.ndarray:
    """``vae.projection.project`` under our method names. Shapes: (n, d) -> (n, 2)."""
    from archpred.vae import projection

    return np.asarray(projection.project(np.asarray(x, dtype=np.float64), METHODS[_method(method)], seed=seed))


def nearest(
    frame: pd.DataFrame, embedding: np.ndarray, k: int = 5, families: Iterable[str] | None = None
) -> pd.DataFrame:
    """The ``k`` rows of ``frame`` (of ``families``, when given) whose embeddings are closest to
    ``embedding`` by cosine similarity, most similar first, with a ``similarity`` column."""
    rows = frame if families is None else frame[frame["family"].isin(list(families))]
    if rows.empty:
        return rows.assign(similarity=pd.Series(dtype=float))
    x = np.stack(rows["embedding"].to_numpy()).astype(np.float64)
    q = np.asarray(embedding, dtype=np.float64).reshape(-1)
    sim = x @ q / np.maximum(np.linalg.norm(x, axis=1) * np.linalg.norm(q), 1e-12)
    order = np.argsort(-sim, kind="stable")[:k]
    return rows.iloc[order].assign(similarity=sim[order])
