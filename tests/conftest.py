"""Shared fixtures. Tests never write outside tmp folders: the cache dir is redirected."""

from __future__ import annotations

import os
from pathlib import Path

# One torch/OpenMP thread per test process: tests run two processes on two cores (-n 2), and the
# tiny models of the tests run several times faster single-threaded than fighting over the cores
# (a guided search's refit: 18 s with the default threads, 1.6 s with one). Set before torch loads.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pytest

from archpred.paths import data_dir

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True, scope="session")
def _hermetic_cache(tmp_path_factory: pytest.TempPathFactory):
    """Caches go to a temporary folder, unless a test run sets ARCHPRED_CACHE_DIR itself."""
    if "ARCHPRED_CACHE_DIR" not in os.environ:
        os.environ["ARCHPRED_CACHE_DIR"] = str(tmp_path_factory.mktemp("archpred-cache"))
    yield


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def shared_file(*parts: str) -> Path:
    path = data_dir().joinpath(*parts)
    if not path.exists():
        pytest.skip(f"benchmark file {path} not present")
    return path


def needs_data(*benchmarks: str) -> pytest.MarkDecorator:
    """Skip, with a one-line reason, where a benchmark's shared data file is absent (a fresh
    machine without ``$ARCHPRED_DATA_DIR``); CI has the data and runs these."""
    from archpred.data import is_available

    missing = [b for b in benchmarks if not is_available(b)]
    return pytest.mark.skipif(bool(missing), reason=f"needs the shared {', '.join(missing)} data")


@pytest.fixture
def fresh_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No shared data: ``$ARCHPRED_DATA_DIR`` is an empty folder (NB-201 still comes from PyPI)."""
    empty = tmp_path / "no-data"
    empty.mkdir()
    monkeypatch.setenv("ARCHPRED_DATA_DIR", str(empty))
    return empty


@pytest.fixture
def nb101_data() -> Path:
    """The data folder holding the shared NB-101 sample (``../shared/data`` or
    ``$ARCHPRED_DATA_DIR``); skips with a one-line reason where it is absent (a fresh machine)."""
    from archpred.data import is_available

    if not is_available("nb101"):
        pytest.skip("needs the shared nb101 data")
    return data_dir()


@pytest.fixture(scope="session")
def tiny_gennape_fit() -> dict:
    """The inputs of ``fit_gennape`` for a tiny model: 40 NB-201 CGs with random accuracies, tiny
    epochs, 3 clusters, a 16 + 16 encoder (everything but the work folder)."""
    from archpred.gennape.encoder import EncoderConfig
    from archpred.gennape.inputs import to_graphs
    from archpred.gennape.train import GennapeTrainConfig
    from archpred.spaces import get_space

    space = get_space("nb201")
    rng = np.random.default_rng(0)
    archs = [space.sample(rng) for _ in range(40)]
    return {
        "graphs": to_graphs(archs),
        "accuracy": rng.uniform(0.85, 0.94, size=len(archs)),
        "config": GennapeTrainConfig(
            cl_epochs=1,
            head_epochs=2,
            kgnn_epochs=1,
            seeds=1,
            clusters=3,
            pair_clusters=2,
            cl_batch_size=16,
            fcm_grid=False,
        ),
        "device": "cpu",
        "progress": False,
        "log": lambda _: None,
        "encoder_config": EncoderConfig(gnn_dim=16, tf_dim=16, proj_dim=16),
    }


@pytest.fixture(scope="session")
def tiny_gennape_path(tmp_path_factory: pytest.TempPathFactory, tiny_gennape_fit: dict) -> Path:
    """A GENNAPE model fitted in seconds (``tiny_gennape_fit``): real code path, meaningless
    accuracy. Saved once per test process; load it with ``load_gennape(path)``; its work
    folder ``work`` lies beside it."""
    from archpred.gennape.train import fit_gennape

    folder = tmp_path_factory.mktemp("tiny-gennape")
    model = fit_gennape(workdir=folder / "work", **tiny_gennape_fit)
    return model.save(folder / "tiny-gennape.pt")


def write_nb101_enumeration(cache: Path, cells: list) -> None:
    """A stand-in NB-101 enumeration cache of ``cells`` under ``cache`` (an
    ``$ARCHPRED_CACHE_DIR``), in ``nb101_enumerate``'s own layout: vertices first, padding last.
    Tests that need "every NB-101 cell" use it instead of the 68 s enumeration."""
    from archpred.spaces import get_space

    space = get_space("nb101")
    code = {"input": -1, "output": -2, **{op: i for i, op in enumerate(space.ops)}}
    adjacency = np.zeros((len(cells), 7, 7), dtype=np.int8)
    codes = np.full((len(cells), 7), -3, dtype=np.int8)
    for i, cell in enumerate(cells):
        v = cell.num_vertices
        adjacency[i, :v, :v] = cell.matrix
        codes[i, :v] = [code[op] for op in cell.ops]
    hashes = np.array([space.hash(c) for c in cells], dtype="U32")
    (cache / "nb101").mkdir(parents=True, exist_ok=True)
    np.savez_compressed(cache / "nb101" / "nb101_all_cells.npz", adjacency=adjacency, codes=codes, hashes=hashes)


IO_SAMPLE = ROOT / "assets" / "io" / "sample"  # 8 real networks (6 seen, 2 unseen); its manifest has the recipe
TINY_IO = {"hidden": 16, "layers": 2, "latent": 4, "dense": 16, "image_hidden": 8}


def tiny_io_model(kind: str, folder: Path) -> Path:
    """A tiny IO (``io``) or Accuracy (``io-accuracy``) model trained on the shipped IO sample and
    200 random NB-101 cells, saved in ``folder`` (reused when already there)."""
    path = Path(folder) / f"{kind}_nb101.pt"
    if not path.exists():
        from archpred.data.io_dataset import load_io_dataset
        from archpred.spaces import get_space
        from archpred.vae.data import from_archs
        from archpred.vae.io_train import train_io_vae

        space = get_space("nb101")
        rng = np.random.default_rng(0)
        unlabelled = from_archs(space, [space.sample(rng) for _ in range(200)])
        vae, _ = train_io_vae(
            kind, load_io_dataset(IO_SAMPLE), unlabelled=unlabelled, epochs=1, labelled_run=10, unlabelled_run=5,
            device="cpu", progress=False, **TINY_IO,
        )  # fmt: skip
        path.parent.mkdir(parents=True, exist_ok=True)
        vae.save(path)
    return path
