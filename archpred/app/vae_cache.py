"""Cached loaders and helpers of the latent-space pages (embedding map, latent walk).

Models live in ``st.cache_resource``; arrays in ``st.cache_data``; 2-D projections are also
kept on disk under ``cache_dir("app", "projections")`` because t-SNE and UMAP take minutes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from archpred.app import cache
from archpred.errors import ArchpredError
from archpred.paths import cache_dir
from archpred.spaces import Architecture
from archpred.vae.model import GraphVAE, default_paths, load_vae

KINDS = ("svge", "arch2vec")
SPACES = ("nb201", "nb101", "enas")  # benchmarks whose space has a VAE
PROJECTIONS = ("PCA", "t-SNE", "UMAP")
FIT_SIZE = 1000  # labelled cells behind "predicted accuracy"


def model_file(kind: str, space: str) -> Path | None:
    return next((p for p in default_paths(kind, space) if p.exists()), None)


def available_spaces(kind: str) -> list[str]:
    return [s for s in SPACES if model_file(kind, s) is not None]


@st.cache_resource(show_spinner="Loading graph VAE ...", max_entries=8)
def _vae(kind: str, space: str, path: str, mtime: float) -> GraphVAE:
    return load_vae(kind, space, path=path, device="cpu")


def try_vae(kind: str, space: str) -> tuple[GraphVAE | None, str | None]:
    path = model_file(kind, space)
    if path is None:
        return None, (
            f"No trained {kind} model for {space}. Train one with: "
            f"python -m archpred train vae --kind {kind} --space {space}"
        )
    try:
        return _vae(kind, space, str(path), path.stat().st_mtime), None
    except (ArchpredError, OSError, ValueError) as err:
        return None, str(err)


def model_tag(kind: str, space: str) -> str:
    """Short id of the model file in use (disk caches depend on it)."""
    path = model_file(kind, space)
    stat = path.stat()
    return hashlib.md5(f"{path}:{stat.st_size}:{stat.st_mtime}".encode()).hexdigest()[:10]


@st.cache_data(show_spinner="Embedding all cells ...", max_entries=8)
def embeddings(kind: str, bench_name: str, tag: str) -> np.ndarray:
    """Graph embeddings of every cell of a benchmark (``tag`` keys the model version)."""
    path = cache_dir("app", "embeddings") / f"{bench_name}_{kind}_{tag}.npy"
    if path.exists():
        return np.load(path)
    vae, error = try_vae(kind, cache.benchmark(bench_name).space.name)
    if vae is None:
        raise ArchpredError(error)
    x = vae.embed(cache.benchmark(bench_name).archs).astype(np.float32)
    tmp = path.with_name(path.name + ".tmp.npy")
    np.save(tmp, x)
    tmp.replace(path)
    return x


def _projection_file(kind: str, bench_name: str, method: str, tag: str, n: int) -> Path:
    return cache_dir("app", "projections") / f"{bench_name}_{kind}_{tag}_{method.lower()}_{n}.npy"


def cached_projection(kind: str, bench_name: str, method: str, tag: str, n: int) -> np.ndarray | None:
    path = _projection_file(kind, bench_name, method, tag, n)
    return np.load(path) if path.exists() else None


def project(x: np.ndarray, method: str, seed: int = 0) -> np.ndarray:
    """2-D projection of embeddings by PCA, t-SNE (scikit-learn) or UMAP (umap-learn)."""
    if method == "PCA":
        from sklearn.decomposition import PCA

        return PCA(n_components=2, random_state=seed).fit_transform(x)
    if method == "t-SNE":
        from sklearn.manifold import TSNE

        return TSNE(n_components=2, init="pca", random_state=seed, perplexity=min(30.0, len(x) - 1)).fit_transform(x)
    if method == "UMAP":
        import umap

        return umap.UMAP(n_components=2, random_state=seed, n_neighbors=min(15, len(x) - 1)).fit_transform(x)
    raise ValueError(f"unknown projection {method!r}; choose from {', '.join(PROJECTIONS)}")


def projection(kind: str, bench_name: str, method: str, tag: str, rows: np.ndarray) -> np.ndarray:
    """The projection of the embedded ``rows``, from the disk cache or computed and stored."""
    found = cached_projection(kind, bench_name, method, tag, len(rows))
    if found is not None and len(found) == len(rows):
        return found
    xy = project(embeddings(kind, bench_name, tag)[rows], method).astype(np.float32)
    path = _projection_file(kind, bench_name, method, tag, len(rows))
    tmp = path.with_name(path.name + ".tmp.npy")
    np.save(tmp, xy)
    tmp.replace(path)
    return xy


def shown_rows(n_total: int, n: int) -> np.ndarray:
    """The cells shown on a map of ``n`` points (a fixed random subset when smaller than the table)."""
    if n >= n_total:
        return np.arange(n_total)
    return np.sort(np.random.default_rng(0).choice(n_total, n, replace=False))


@st.cache_resource(show_spinner="Fitting an accuracy regressor on the latent space ...", max_entries=8)
def latent_regressor(kind: str, bench_name: str, tag: str):
    """A random forest on graph embeddings of ``FIT_SIZE`` random labelled cells (arch2vec's recipe)."""
    from sklearn.ensemble import RandomForestRegressor

    bench = cache.benchmark(bench_name)
    x = embeddings(kind, bench_name, tag)
    y = bench.accuracy
    ok = np.flatnonzero(np.isfinite(y))
    rows = np.random.default_rng(0).choice(ok, min(FIT_SIZE, len(ok)), replace=False)
    return RandomForestRegressor(n_estimators=100, max_features=4, random_state=0, n_jobs=1).fit(x[rows], y[rows])


@st.cache_data(show_spinner=False, max_entries=8)
def predicted_accuracy(kind: str, bench_name: str, tag: str) -> np.ndarray:
    return latent_regressor(kind, bench_name, tag).predict(embeddings(kind, bench_name, tag))


def describe(arch: Architecture | None) -> str:
    """One line for a table: NB-201 string, ENAS layers, or NB-101 ops + edge count."""
    if arch is None:
        return "invalid"
    if hasattr(arch, "arch_string"):
        return arch.arch_string
    if hasattr(arch, "string"):
        return arch.string
    ops = ",".join(o.split("-")[0] for o in arch.ops[1:-1])
    return f"{arch.num_vertices}v {int(arch.matrix.sum())}e [{ops}]"


def walk_table(vae: GraphVAE, kind: str, bench_name: str, tag: str, z: np.ndarray) -> tuple[pd.DataFrame, list]:
    """Decoded cells along latent points: step, cell, valid, predicted accuracy, real accuracy."""
    bench = cache.benchmark(bench_name)
    decoded = vae.decode(z)
    predicted = latent_regressor(kind, bench_name, tag).predict(vae.latent_to_embedding(z))
    real = []
    for arch in decoded:
        row = None if arch is None else bench.index(arch)
        real.append(np.nan if row is None else float(bench.accuracy[row]))
    frame = pd.DataFrame(
        {
            "step": np.arange(len(z)),
            "cell": [describe(a) for a in decoded],
            "valid": [a is not None for a in decoded],
            "predicted accuracy": predicted,
            "real accuracy": real,
        }
    )
    return frame, decoded


def benchmark_and_vae_or_stop(kind: str, bench_name: str):
    """The benchmark and VAE a page needs; on a problem, an inline error and ``st.stop()``."""
    bench, error = cache.try_benchmark(bench_name)
    if bench is None:
        st.error(error)
        st.stop()
    vae, error = try_vae(kind, bench.space.name)
    if vae is None:
        st.error(error)
        st.stop()
    return bench, vae
