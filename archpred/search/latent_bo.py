"""Bayesian optimisation in a graph VAE's latent space, with BoTorch.

The SVGe paper (Lukasik et al., "Smooth variational graph embeddings for efficient neural
architecture search", 2021) and arch2vec (Yan et al., 2020) search NAS-Bench spaces by BO on
their embeddings. Here: the first ``n_initial`` queries are uniformly random evaluable cells;
then, each time the queue of proposals is empty, a GP is fitted to every told result and a
batch of ``batch`` points is chosen in the latent box, and those points become the next
proposals:

- ``SingleTaskGP`` (BoTorch's defaults: Matern-5/2 ARD kernel with dimension-scaled priors,
  inferred noise: NB-201's table answers one training seed's validation accuracy, so results
  are noisy) on (latent of each told cell, its validation accuracy), inputs normalised to the
  box the evaluable cells' latents span, outcomes standardised, double precision, fitted by
  ``fit_gpytorch_mll``;
- ``qLogExpectedImprovement`` over the best told accuracy, maximised in the box by
  ``optimize_acqf`` (q = ``batch``, ``num_restarts`` starts from ``raw_samples`` random
  points);
- each point is decoded by the VAE; a decoded cell that is valid, new in the run and evaluable
  is proposed as it is (``phase`` ``decoded``), otherwise the nearest new evaluable cell to
  the point in latent space is (``phase`` ``nearest``, with its latent ``distance``).

Nothing fitted is kept: the GP is refitted from the told history (part of the state) with a
seed drawn from the run's generator, inside ``training.seeded``, so a resumed run refits
exactly the model the uninterrupted run would have. The VAE and the evaluable cells' latents
come from ``archpred.search.latent`` (once per process).

Default VAE: arch2vec. On NB-201 CIFAR-10 at 100 queries (seeds 0, 1, 2) the best-by-val
cell's test accuracy was 94.09 / 94.37 / 94.11 % with arch2vec's 128-d latent and 93.87 /
93.94 / 93.60 % with SVGe's 56-d one; arch2vec also encodes the 15,625 cells 3.5x faster
(2.3 s against 8.0 s on one CPU thread). With SVGe most optimised points decode to a new cell
(83 of 90); with arch2vec most decode to a cell already evaluated, so the nearest new cell is
taken (65-81 of 90).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from archpred.search.base import Candidates, Evaluation, Searcher
from archpred.search.latent import LatentTable, check_vae_kind, latent_table, search_vae
from archpred.search.options import positive_int
from archpred.spaces import Architecture, SearchSpace

# qLogEI's quasi-Monte-Carlo samples (BoTorch's default is 512; the cost of a call here is
# mostly fixed overhead, but 64 keeps the batched restarts light)
_MC_SAMPLES = 64


class LatentBO(Searcher):
    """GP + qLogEI in a VAE's latent box, decode, fall back to the nearest new cell.

    Args:
        vae: ``arch2vec`` (default: better cells than SVGe at the same budget on NB-201
            CIFAR-10, and faster; see the module's docstring) or ``svge``.
        n_initial: uniformly random cells before the first GP.
        batch: q, the points chosen per GP fit (the GP is refitted after each batch).
        num_restarts, raw_samples: ``optimize_acqf``'s starts and the random points they are
            picked from (more: a better acquisition optimum, slower).
        maxiter: L-BFGS-B iterations of the GP fit and of the acquisition optimisation. Each
            iteration is one GP call whose cost is mostly fixed overhead (one qLogEI value and
            gradient: 35-55 ms on our busy shared CPU at 16 and at 128 dimensions alike); fitting
            to convergence (up to 15,000) took 10x longer and ranked held-out NB-201 cells no better
            (Kendall tau ~0.4 at 20, 50, 100 and 15,000 iterations on 95 cells).
        max_tries: unused here (the base's mutation budget), kept for a uniform signature.
    """

    name = "latent-bo"

    def __init__(
        self,
        space: SearchSpace,
        rng: np.random.Generator,
        candidates: Candidates | None = None,
        vae: str = "arch2vec",
        n_initial: int = 10,
        batch: int = 5,
        num_restarts: int = 4,
        raw_samples: int = 256,
        maxiter: int = 50,
        max_tries: int = 100,
    ) -> None:
        super().__init__(space, rng, candidates, max_tries)
        self.vae = check_vae_kind(vae)
        self.n_initial = positive_int("n_initial", n_initial)
        self.batch = positive_int("batch", batch)
        self.num_restarts = positive_int("num_restarts", num_restarts)
        self.raw_samples = positive_int("raw_samples", raw_samples)
        self.maxiter = positive_int("maxiter", maxiter)
        self._told: dict[str, float] = {}  # key -> val_acc, in the order told
        self._queue: list[dict[str, Any]] = []  # the next proposals: {"key", "row", "info"}
        self._table: LatentTable | None = None

    @property
    def table(self) -> LatentTable:
        """The evaluable cells' latents (built on first use, shared within the process)."""
        if self._table is None:
            self._table = latent_table(self.vae, "latent", self.space, self.candidates)
        return self._table

    # -- proposals ------------------------------------------------------------------------
    def _propose(self) -> tuple[Architecture, str, dict[str, Any]]:
        while True:
            while self._queue:
                item = self._queue.pop(0)
                if item["key"] not in self._seen:  # not told from outside in the meantime
                    return self.table.archs[item["row"]], item["key"], dict(item["info"])
            if len(self._told) < self.n_initial or len(self.table.rows(self._told)) < 2:
                arch, key = self._random()
                return arch, key, {"phase": "init"}
            self._queue = self._next_batch()

    def _next_batch(self) -> list[dict[str, Any]]:
        """Fit the GP to everything told, optimise qLogEI and turn the points into cells."""
        seed = int(self.rng.integers(2**31 - 1))
        points = _optimise(self.table, self._told, self._settings(), seed)
        vae = search_vae(self.vae, self.space.name)
        decoded = vae.decode(points.astype(np.float32))
        out: list[dict[str, Any]] = []
        taken = set(self._seen)
        for point, arch in zip(points, decoded):
            key = None if arch is None else self.space.key(arch)
            if key is not None and key not in taken and key in self.table.index:
                out.append({"key": key, "row": self.table.index[key], "info": {"phase": "decoded"}})
            else:
                near = self.table.nearest_unseen(point, taken)
                if near is None:
                    break  # every evaluable cell is taken; _random then says so
                row, dist = near
                key = self.table.keys[row]
                out.append({"key": key, "row": row, "info": {"phase": "nearest", "distance": round(dist, 6)}})
            taken.add(key)
        if not out:
            arch, key = self._random()  # raises the base's "every cell has been proposed"
            out.append({"key": key, "row": self.table.index[key], "info": {"phase": "init"}})
        return out

    def _settings(self) -> dict[str, int]:
        return {
            "q": self.batch,
            "num_restarts": self.num_restarts,
            "raw_samples": self.raw_samples,
            "maxiter": self.maxiter,
        }

    def _observe(self, evaluation: Evaluation, info: dict[str, Any]) -> None:
        self._told[evaluation.key] = float(evaluation.val_acc)

    # -- state ----------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return {"told": dict(self._told), "queue": [dict(q) for q in self._queue]}

    def _load_state(self, state: dict[str, Any]) -> None:
        self._told = {str(k): float(v) for k, v in state["told"].items()}
        self._queue = [dict(q) for q in state["queue"]]


def _optimise(table: LatentTable, told: dict[str, float], settings: dict[str, int], seed: int) -> np.ndarray:
    """``settings["q"]`` points of the latent box that maximise qLogEI of a GP fitted to
    ``told`` (told cells outside the table are left out: the GP lives on the table's latents)."""
    import torch
    from botorch.acquisition.logei import qLogExpectedImprovement
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from botorch.models.transforms import Normalize, Standardize
    from botorch.optim import optimize_acqf
    from botorch.sampling import SobolQMCNormalSampler
    from gpytorch.mlls import ExactMarginalLogLikelihood

    from archpred.training import seeded

    keys = [k for k in told if k in table.index]
    x = torch.as_tensor(table.z[table.rows(keys)], dtype=torch.float64)
    y = torch.tensor([[told[k]] for k in keys], dtype=torch.float64)
    bounds = torch.as_tensor(np.stack([table.lower, table.upper]), dtype=torch.float64)
    with seeded(seed):
        model = SingleTaskGP(
            x, y, input_transform=Normalize(x.shape[1], bounds=bounds), outcome_transform=Standardize(1)
        )
        mll = ExactMarginalLogLikelihood(model.likelihood, model)
        fit_gpytorch_mll(mll, optimizer_kwargs={"options": {"maxiter": settings["maxiter"]}})
        sampler = SobolQMCNormalSampler(torch.Size([_MC_SAMPLES]))
        acq = qLogExpectedImprovement(model, best_f=y.max(), sampler=sampler)
        points, _ = optimize_acqf(
            acq,
            bounds=bounds,
            q=settings["q"],
            num_restarts=settings["num_restarts"],
            raw_samples=settings["raw_samples"],
            options={"maxiter": settings["maxiter"]},
        )
    return points.detach().numpy()
