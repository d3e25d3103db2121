"""Every cache of the app: models in ``st.cache_resource``, arrays in ``st.cache_data``, and the
slow 2-D projections also on disk under ``cache_dir("app", ...)`` (t-SNE and UMAP take minutes).

No other module of the app caches. Keys carry what the value depends on: a file's path,
modification time and size for anything loaded from a file, and the resolved device
(``"cpu"``, ``"cuda:0"``) for anything that runs a model. ``try_*`` functions turn a missing
or unreadable file into ``(None, message)`` for an inline error.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import streamlit as st

from archpred.artifacts import atomic_write
from archpred.data import BENCHMARKS, Benchmark, available_first, load_benchmark
from archpred.errors import ArchpredError
from archpred.paths import cache_dir, data_dir
from archpred.predictors import Predictor, store
from archpred.spaces import Architecture
from archpred.vae import projection as vae_projection  # looked up per call: tests count calls

if TYPE_CHECKING:  # torch and the VAEs load on first use, so the Benchmarks page starts fast
    from archpred.vae.model import GraphVAE

FIT_SIZE = 1000  # labelled cells behind the latent pages' "predicted accuracy"
FOREST_TREES = 100  # fewer than the bench's 200: the app fits it while the user waits


# -- benchmarks ------------------------------------------------------------------------------
@st.cache_resource(show_spinner="Loading benchmark ...")
def _benchmark(name: str, dataset: str | None, folder: str) -> Benchmark:
    return load_benchmark(name, **({"dataset": dataset} if dataset else {}))


def benchmark(name: str, dataset: str | None = None) -> Benchmark:
    """A benchmark table, loaded once per process and data folder (read-only: never mutate it).
    The folder is part of the key: a table read from one ``$ARCHPRED_DATA_DIR`` is never
    served for another (NB-201 gains its test accuracies and official index from the shared
    file)."""
    return _benchmark(name, dataset, str(data_dir()))


def clear_benchmarks() -> None:
    """Forget every loaded table (tests that change the data folder)."""
    _benchmark.clear()


def try_benchmark(name: str, dataset: str | None = None) -> tuple[Benchmark | None, str | None]:
    """``(benchmark, None)`` or ``(None, message)`` when its data is missing."""
    try:
        return benchmark(name, dataset), None
    except (ArchpredError, ModuleNotFoundError, ValueError) as err:
        return None, str(err)


@st.cache_data(show_spinner=False)
def benchmark_frame(name: str, dataset: str | None = None) -> pd.DataFrame:
    """The table as a DataFrame (key + metrics), for display and plotting."""
    return benchmark(name, dataset).to_frame()


def benchmark_names() -> list[str]:
    """Every benchmark the Benchmarks page offers, those whose data is present first (so the
    page opens on a table that loads, NB-201 on a fresh machine)."""
    return available_first(BENCHMARKS)


# -- saved predictors --------------------------------------------------------------------------
@st.cache_data(show_spinner=False, max_entries=16)
def _saved_models(files: tuple[tuple[str, int, int], ...], space: str | None) -> list[store.SavedModel]:
    return store.saved_models(space)


def saved_models(space: str | None = None) -> list[store.SavedModel]:
    """Shipped and saved predictors (of ``space``); headers are read again only when a model
    file is added, replaced or removed (the key is every file's path, mtime and size)."""
    return _saved_models(store.fingerprint(), space)


@st.cache_resource(show_spinner="Loading predictor ...", max_entries=32)
def _predictor(path: str, mtime_ns: int, size: int, device: str) -> Predictor:
    return Predictor.load(path, device=device)


def predictor(path: str | Path, device: str) -> Predictor:
    """A saved predictor on ``device``, loaded once per file version and device."""
    stat = Path(path).stat()
    return _predictor(str(path), stat.st_mtime_ns, stat.st_size, device)


def try_predictor(path: str | Path, device: str) -> tuple[Predictor | None, str | None]:
    """``(predictor, None)``, or ``(None, message)`` when the file cannot be loaded."""
    try:
        return predictor(path, device), None
    except (ArchpredError, OSError, ValueError) as err:
        return None, str(err)


@st.cache_data(show_spinner=False, max_entries=1024)
def _cell_predictions(
    files: tuple[tuple[str, int, int], ...], space_name: str, device: str, arch_json: str, _arch: Architecture
) -> tuple[list[tuple[str, str, float, float | None]], list[str]]:
    rows, problems = [], []
    for saved in saved_models(space_name):  # best held-out tau first
        model, error = try_predictor(saved.path, device)
        if model is None:
            problems.append(f"{saved.path.name}: {error}")
            continue
        try:
            rows.append((saved.label, saved.name, float(model.predict([_arch])[0]), saved.held_out_tau))
        except (ValueError, RuntimeError) as err:
            problems.append(f"{saved.path.name}: {err}")
    return rows, problems


def cell_predictions(
    space_name: str, arch: Architecture, device: str
) -> tuple[list[tuple[str, str, float, float | None]], list[str]]:
    """Every saved predictor of ``space_name`` on one cell, the best first:
    ``[(label, predictor name, value, held-out Kendall tau or None)]``
    and one ``"file: problem"`` per file that cannot load or predict. Computed once per cell,
    device and set of model files (the key holds every file's path, mtime and size): the cell
    editor reruns on every widget change, and a cell seen before costs no model call. One cache
    lookup per cell, not per model: a lookup costs more than a random forest's prediction."""
    return _cell_predictions(store.fingerprint(), space_name, device, arch.to_json(), arch)


# -- graph VAEs --------------------------------------------------------------------------------
def vae_file(kind: str, space: str) -> Path | None:
    """The model file ``load_vae`` would use (a user's model before the shipped one)."""
    from archpred.vae.model import default_paths

    return next((p for p in default_paths(kind, space) if p.exists()), None)


def vae_tag(kind: str, space: str) -> str:
    """Short id of the model file in use (disk caches depend on it)."""
    path = vae_file(kind, space)
    stat = path.stat()
    return hashlib.md5(f"{path}:{stat.st_size}:{stat.st_mtime}".encode()).hexdigest()[:10]


@st.cache_resource(show_spinner="Loading graph VAE ...", max_entries=8)
def _vae(kind: str, space: str, path: str, mtime: float, device: str) -> GraphVAE:
    from archpred.vae.model import load_vae

    return load_vae(kind, space, path=path, device=device)


def try_vae(kind: str, space: str, device: str) -> tuple[GraphVAE | None, str | None]:
    """``(vae, None)``, or ``(None, message)`` saying how to train the missing model."""
    from archpred.vae.model import train_command

    path = vae_file(kind, space)
    if path is None:
        return None, f"No trained {kind} model for {space}. Train one with: {train_command(kind, space)}"
    try:
        return _vae(kind, space, str(path), path.stat().st_mtime, device), None
    except (ArchpredError, OSError, ValueError) as err:
        return None, str(err)


def _save_npy(path: Path, x: np.ndarray) -> None:
    atomic_write(path, lambda tmp: np.save(tmp, x))


@st.cache_data(show_spinner="Embedding all cells ...", max_entries=8)
def embeddings(kind: str, bench_name: str, tag: str, device: str) -> np.ndarray:
    """Graph embeddings of every cell of a benchmark (``tag`` keys the model version). The disk
    copy is shared by devices: they differ only in float rounding."""
    path = cache_dir("app", "embeddings") / f"{bench_name}_{kind}_{tag}.npy"
    if path.exists():
        return np.load(path)
    bench = benchmark(bench_name)
    vae, error = try_vae(kind, bench.space.name, device)
    if vae is None:
        raise ArchpredError(error)
    x = vae.embed(bench.archs).astype(np.float32)
    _save_npy(path, x)
    return x


def _projection_file(kind: str, bench_name: str, method: str, tag: str, rows: np.ndarray) -> Path:
    """The disk copy of one projection, named by the rows themselves (their count and a digest):
    two maps of the same size but other cells never share a file."""
    digest = hashlib.md5(np.ascontiguousarray(rows, dtype=np.int64).tobytes()).hexdigest()[:10]
    name = f"{bench_name}_{kind}_{tag}_{method.lower()}_{len(rows)}_{digest}.npy"
    return cache_dir("app", "projections") / name


def has_projection(kind: str, bench_name: str, method: str, tag: str, rows: np.ndarray) -> bool:
    """Whether the projection of these ``rows`` is on disk already (else it takes a while)."""
    return _projection_file(kind, bench_name, method, tag, rows).exists()


def projection(kind: str, bench_name: str, method: str, tag: str, rows: np.ndarray, device: str) -> np.ndarray:
    """The 2-D projection of the embedded ``rows``, from the disk cache or computed and stored:
    computed once per (model file, benchmark, method, rows), whatever else the page changes."""
    path = _projection_file(kind, bench_name, method, tag, rows)
    if path.exists():
        found = np.load(path)
        if len(found) == len(rows):
            return found
    xy = vae_projection.project(embeddings(kind, bench_name, tag, device)[rows], method).astype(np.float32)
    _save_npy(path, xy)
    return xy


@st.cache_resource(show_spinner="Fitting an accuracy regressor on the latent space ...", max_entries=8)
def latent_regressor(kind: str, bench_name: str, tag: str, device: str) -> Any:
    """The embedding forest (``vae.regressor``) on ``FIT_SIZE`` random labelled cells."""
    from archpred.vae.regressor import fit_embedding_forest

    x = embeddings(kind, bench_name, tag, device)
    y = benchmark(bench_name).accuracy
    ok = np.flatnonzero(np.isfinite(y))
    rows = np.random.default_rng(0).choice(ok, min(FIT_SIZE, len(ok)), replace=False)
    return fit_embedding_forest(x[rows], y[rows], seed=0, n_estimators=FOREST_TREES)


@st.cache_data(show_spinner=False, max_entries=8)
def predicted_accuracy(kind: str, bench_name: str, tag: str, device: str) -> np.ndarray:
    """The latent regressor's accuracy of every cell of the benchmark."""
    return latent_regressor(kind, bench_name, tag, device).predict(embeddings(kind, bench_name, tag, device))


# -- a whole space on the map ----------------------------------------------------------------
def space_embedding_folder(kind: str, space: str, tag: str) -> Path:
    """Where ``archpred.vae.space_map`` keeps the whole-space embedding of one model file."""
    return cache_dir("app", "space-embeddings", f"{space}_{kind}_{tag}")


def has_space_embedding(kind: str, space: str, tag: str) -> bool:
    from archpred.vae.space_map import FINAL

    return (space_embedding_folder(kind, space, tag) / FINAL).is_file()


@st.cache_resource(show_spinner=False, max_entries=2)
def space_embedding(kind: str, space: str, tag: str, device: str) -> np.ndarray:
    """Every cell of ``space`` embedded (read-only; a resource, not copied per rerun: NB-101's
    SVGe embedding is 95 MB). Computes the missing chunks when the page has not done so."""
    from archpred.vae.space_map import embed_space

    vae, error = try_vae(kind, space, device)
    if vae is None:
        raise ArchpredError(error)
    return embed_space(vae, space_embedding_folder(kind, space, tag))


@st.cache_resource(show_spinner=False, max_entries=2)
def space_arrays(space: str) -> Any:
    """``space.arrays()``: every cell's padded graph and key (NB-101: 0.9 s)."""
    from archpred.spaces import get_space

    return get_space(space).arrays(progress=False)


def _space_projection_file(kind: str, space: str, tag: str, method: str) -> Path:
    return cache_dir("app", "projections") / f"space_{space}_{kind}_{tag}_{method.lower()}.npy"


def has_space_projection(kind: str, space: str, tag: str, method: str) -> bool:
    return _space_projection_file(kind, space, tag, method).is_file()


@st.cache_resource(show_spinner=False, max_entries=4)
def space_projection(kind: str, space: str, tag: str, method: str, device: str) -> np.ndarray:
    """The 2-D projection of the whole-space embedding, from disk or computed once and stored."""
    path = _space_projection_file(kind, space, tag, method)
    x = space_embedding(kind, space, tag, device)
    if path.exists():
        found = np.load(path)
        if len(found) == len(x):
            return found
    xy = vae_projection.project(x, method).astype(np.float32)
    _save_npy(path, xy)
    return xy


def space_scores_file(saved: store.SavedModel) -> Path:
    """The disk copy of a saved predictor's scores of its whole space (named by the file's
    path, size and modification time: a retrained model never reads old scores)."""
    stat = saved.path.stat()
    digest = hashlib.md5(f"{saved.path}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:10]
    return cache_dir("app", "space-scores") / f"{saved.path.stem}_{digest}.npy"


@st.cache_resource(show_spinner=False, max_entries=4)
def _space_scores(path: str, file: str, device: str) -> np.ndarray:
    from archpred.predictors.scoring import score_space

    if Path(file).is_file():
        found = np.load(file)
        model_space = store.read_header(Path(path))
        if model_space is not None and len(found) == len(space_arrays(model_space[1])):
            return found
    model = predictor(path, device)
    values = score_space(model, arrays=space_arrays(model.space_.name)).predictions.astype(np.float32)
    _save_npy(Path(file), values)
    return values


def has_space_scores(saved: store.SavedModel) -> bool:
    return space_scores_file(saved).is_file()


def space_scores(saved: store.SavedModel, device: str) -> np.ndarray:
    """A saved predictor's estimate for every cell of its space (``score_space``), from disk or
    computed once and stored; rows in ``space_arrays`` order."""
    return _space_scores(str(saved.path), str(space_scores_file(saved)), device)


# -- networks of cells -------------------------------------------------------------------------
@st.cache_data(show_spinner=False, max_entries=256)
def network_counts(space_name: str, arch_json: str) -> tuple[int, int]:
    """(trainable parameters, multiply-adds) of the benchmark-size network."""
    from archpred.networks import expected_flops, expected_params
    from archpred.spaces import get_space

    arch = get_space(space_name).cell(**json.loads(arch_json))
    return expected_params(arch), expected_flops(arch)


@st.cache_data(show_spinner=False, max_entries=32)
def network_graph(space_name: str, arch_json: str, width: int | None = None) -> dict:
    """The traced computation graph as plain lists (cacheable)."""
    from archpred.networks import build_network, to_computation_graph
    from archpred.networks.graph import OP_TYPES
    from archpred.spaces import get_space
    from archpred.training import seeded

    arch = get_space(space_name).cell(**json.loads(arch_json))
    with seeded(0):
        net = build_network(arch, **({"width": width} if width else {}))
    data = to_computation_graph(net)
    return {
        "ops": list(data.ops),
        "names": list(data.names),
        "edges": data.edge_index.t().tolist(),
        "features": data.x[:, len(OP_TYPES) :].tolist(),
    }


# -- GENNAPE -----------------------------------------------------------------------------------
GENNAPE_ENV = "ARCHPRED_GENNAPE_MODEL"  # a GENNAPE model file to use instead of the shipped one


def gennape_file() -> Path:
    """The GENNAPE model the app uses: ``$ARCHPRED_GENNAPE_MODEL``, else the shipped one
    (``archpred.gennape.model.SHIPPED``, looked up on each call). It may not exist."""
    import os

    from archpred.gennape import model as gennape_model

    env = os.environ.get(GENNAPE_ENV)
    return Path(env).expanduser() if env else Path(gennape_model.SHIPPED)


@st.cache_resource(show_spinner="Loading GENNAPE ...", max_entries=4)
def _gennape(path: str, mtime_ns: int, size: int) -> tuple[Any, str]:
    from archpred.gennape.atlas import model_digest
    from archpred.gennape.model import load_gennape

    model = load_gennape(path)
    return model, model_digest(model)


def try_gennape(path: str | Path) -> tuple[Any, str | None, str | None]:
    """``(model, digest, None)``: a GENNAPE model loaded once per file version, with its
    ``atlas.model_digest`` (the disk caches' key); ``(None, None, message)`` when the file
    cannot be loaded."""
    try:
        stat = Path(path).stat()
        model, digest = _gennape(str(path), stat.st_mtime_ns, stat.st_size)
        return model, digest, None
    except (ArchpredError, OSError, ValueError) as err:
        return None, None, str(err)


@st.cache_data(show_spinner=False, max_entries=1024)
def gennape_cell(digest: str, space_name: str, arch_json: str, _model: Any, _arch: Architecture) -> dict[str, Any]:
    """GENNAPE on one cell (model ``digest``): ``{"predicted": ensemble, "scores": {member:
    score}, "flops": .., "params": ..}``; once per cell and model (the editor reruns often)."""
    feats = _model.features([_arch])
    scores = {name: float(value[0]) for name, value in _model.member_scores(feats).items()}
    predicted = float(_model.combine({n: np.array([scores[n]]) for n in _model.weights})[0])
    return {
        "predicted": predicted,
        "scores": scores,
        "flops": float(feats.graphs.flops[0]),
        "params": float(feats.graphs.params[0]),
    }


@st.cache_data(show_spinner=False, max_entries=8)
def gennape_example(name: str) -> bytes:
    """A built-in example network as ONNX bytes (``gennape.examples``; exported once)."""
    from archpred.gennape.examples import example_onnx_bytes

    return example_onnx_bytes(name)


@st.cache_resource(show_spinner="Reading the ONNX file ...", max_entries=16)
def _upload_graph(digest: str, name: str, _raw: bytes) -> Any:
    from archpred.gennape.inputs import onnx_graph

    return onnx_graph(_raw, name)


def upload_graph(raw: bytes, name: str) -> Any:
    """The computation graph of an uploaded ONNX file, parsed with ``onnx`` only
    (``gennape.inputs.onnx_graph``) once per file content. Raises ``UnsupportedNetwork``."""
    return _upload_graph(hashlib.sha256(raw).hexdigest(), name, raw)


@st.cache_data(show_spinner=False, max_entries=16)
def gennape_upload(digest: str, upload: str, _model: Any, _graphs: Any) -> tuple[pd.DataFrame, dict[str, float]]:
    """GENNAPE on an uploaded network (model ``digest``, upload digest ``upload``): its
    ``atlas.graph_table`` row and every member's score."""
    from archpred.gennape.atlas import UPLOAD, graph_table

    table = graph_table(_model, _graphs, UPLOAD)
    scores = _model.member_scores(_model.features(_graphs))
    return table, {name: float(value[0]) for name, value in scores.items()}


# -- the IO dataset (arch2vec + input-output information) ------------------------------------------
def io_dataset_default() -> Path:
    """The default IO dataset (``default_io_dir``) when it is built (or being built), else the shipped sample."""
    from archpred.data.io_dataset import default_io_dir
    from archpred.networks.io_dataset import io_dataset_version
    from archpred.paths import ASSETS_DIR

    built = default_io_dir()
    return built if io_dataset_version(built) else ASSETS_DIR / "io" / "sample"


@st.cache_resource(show_spinner="Loading the IO dataset ...", max_entries=4)
def _io_dataset(folder: str, version: int) -> tuple[Any, int | None]:
    from archpred.networks.io_dataset import load_io_dataset_or_build

    return load_io_dataset_or_build(folder)


def try_io_dataset(folder: str | Path) -> tuple[Any, int | None, str | None]:
    """``(IODataset, None, None)``; ``(networks trained so far, networks planned, None)`` while
    its build runs; or ``(None, None, message)``. Reloaded when the dataset changes."""
    from archpred.networks.io_dataset import io_dataset_version

    try:
        dataset, planned = _io_dataset(str(folder), io_dataset_version(folder))
        return dataset, planned, None
    except ArchpredError as err:
        return None, None, str(err)


@st.cache_data(show_spinner="Clustering the networks by their outputs ...", max_entries=8)
def io_clusters(folder: str, version: int, threshold: float, _dataset: Any) -> np.ndarray:
    """Output clusters of the dataset of ``folder`` at ``version`` (its files' modification time)."""
    from archpred.data.io_dataset import output_clusters

    return output_clusters(_dataset, threshold)


@st.cache_data(show_spinner=False, max_entries=2)
def io_images(folder: str, version: int, _dataset: Any) -> np.ndarray:
    """The held-out images of the dataset's features (digits: small, loaded in a second)."""
    from archpred.vae.io import io_images as images

    return images(_dataset)
