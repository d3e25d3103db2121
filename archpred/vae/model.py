"""``GraphVAE``: a trained SVGe or arch2vec with an architecture-level API, and ``load_vae``."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from archpred.artifacts import load_artifact, save_artifact
from archpred.errors import CheckpointError, InvalidOption
from archpred.options import check_values
from archpred.paths import ASSETS_DIR, cache_dir
from archpred.spaces import Architecture, SearchSpace, get_space
from archpred.training import isolated_rng, resolve_device
from archpred.vae import IO_VAE_KINDS
from archpred.vae.arch2vec import Arch2Vec, Arch2VecConfig
from archpred.vae.data import GraphArrays, from_archs, to_archs
from archpred.vae.io import IOAccuracyConfig, IOArch2Vec, IOVAEConfig
from archpred.vae.svge import SVGe, SVGeConfig

KINDS = {
    "svge": (SVGe, SVGeConfig),
    "arch2vec": (Arch2Vec, Arch2VecConfig),
    # arch2vec with input-output information (``archpred.vae.io``): trained by ``train io-vae``
    "io": (IOArch2Vec, IOVAEConfig),
    "io-accuracy": (IOArch2Vec, IOAccuracyConfig),
}
FORMAT, FORMAT_VERSION = "archpred-vae", 1


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise InvalidOption(f"unknown VAE kind {kind!r}; choose from {', '.join(KINDS)}")
    return kind


def build_module(kind: str, space: str, **config: Any) -> torch.nn.Module:
    module_cls, config_cls = KINDS[check_kind(kind)]
    fields = {f.name for f in dataclasses.fields(config_cls)}
    unknown = sorted(set(config) - fields)
    if unknown:
        raise InvalidOption(f"unknown option(s) for {kind}: {', '.join(unknown)}")
    check_values(config_cls, config, kind)
    return module_cls(config_cls(space=space, **config))


def model_filename(kind: str, space: str) -> str:
    return f"{kind}_{space}.pt"


class GraphVAE:
    """A graph VAE over one search space.

    ``encode`` gives posterior means (the latent that ``decode`` reads: 56-d for SVGe,
    the flattened node latents (M x 16) for arch2vec); ``embed`` gives the graph embedding
    used by predictors and maps (SVGe: the same; arch2vec: the mean of node latents, 16-d).
    """

    def __init__(self, kind: str, space: str | SearchSpace, module: torch.nn.Module, meta: dict | None = None) -> None:
        self.kind = check_kind(kind)
        self.space = get_space(space) if isinstance(space, str) else space
        self.module = module.eval()
        self.meta = dict(meta or {})

    @property
    def device(self) -> torch.device:
        return next(self.module.parameters()).device

    @property
    def latent_dim(self) -> int:
        return int(self.module.latent_dim)

    @property
    def embedding_dim(self) -> int:
        return int(self.module.embedding_dim)

    def __repr__(self) -> str:
        return f"GraphVAE({self.kind!r}, {self.space.name!r}, latent={self.latent_dim})"

    # -- encoding -----------------------------------------------------------------------------
    def arrays(self, archs: Sequence[Architecture]) -> GraphArrays:
        archs = list(archs)
        wrong = {a.space for a in archs} - {self.space.name}
        if wrong:
            raise InvalidOption(
                f"this {self.kind} model is for {self.space.name} cells, not {', '.join(sorted(wrong))}"
            )
        return from_archs(self.space, archs, self.module.max_vertices)

    @torch.no_grad()
    def encode_arrays(self, graphs: GraphArrays, batch_size: int = 2048) -> np.ndarray:
        self.module.eval()
        out = []
        for start in range(0, len(graphs), batch_size):
            part = graphs.take(np.arange(start, min(start + batch_size, len(graphs))))
            mu, _ = self.module.encode(*part.tensors(self.device))
            out.append(mu.cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.latent_dim), dtype=np.float32)

    def encode(self, archs: Sequence[Architecture], batch_size: int = 2048) -> np.ndarray:
        """Posterior means, (N, latent_dim)."""
        return self.encode_arrays(self.arrays(archs), batch_size)

    def latent_to_embedding(self, z: np.ndarray) -> np.ndarray:
        z = self._check_latent(z)
        with torch.no_grad():  # each model's own: SVGe's latent, the node mean, the IO flatten layer
            return self.module.eval().graph_embedding(torch.as_tensor(z, device=self.device)).cpu().numpy()

    def embed_arrays(self, graphs: GraphArrays, batch_size: int = 2048) -> np.ndarray:
        return self.latent_to_embedding(self.encode_arrays(graphs, batch_size))

    def embed(self, archs: Sequence[Architecture], batch_size: int = 2048) -> np.ndarray:
        """Graph embeddings, (N, embedding_dim)."""
        return self.embed_arrays(self.arrays(archs), batch_size)

    # -- decoding -----------------------------------------------------------------------------
    def _check_latent(self, z: Any) -> np.ndarray:
        try:
            z = np.asarray(z, dtype=np.float32)
        except (TypeError, ValueError):
            raise InvalidOption("latent points must be a numeric array") from None
        if z.ndim == 1:
            z = z[None]
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise InvalidOption(f"latent points must have shape (N, {self.latent_dim}), got {tuple(z.shape)}")
        if not np.all(np.isfinite(z)):
            raise InvalidOption("latent points must be finite (found NaN or inf)")
        return z

    def valid_mask(self, types: torch.Tensor, adj: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
        """Which rows of a batch of decoded graphs are valid cells of the space."""
        archs = to_archs(self.space, types.cpu().numpy(), adj.cpu().numpy().astype(np.int8), n.cpu().numpy())
        return torch.tensor([a is not None for a in archs], dtype=torch.bool, device=types.device)

    @torch.no_grad()
    def decode_arrays(
        self, z: Any, batch_size: int = 2048, choose_valid: bool = True
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Decoded (types, adj, n) arrays. ``choose_valid``: where the model has several
        candidate graphs for a point (SVGe: the union, forward and backward graphs), return the
        most likely one that is a valid cell; False keeps the paper's rule."""
        z = self._check_latent(z)
        self.module.eval()
        check = self.valid_mask if choose_valid else None
        parts = []
        for start in range(0, len(z), batch_size):
            chunk = torch.as_tensor(z[start : start + batch_size], device=self.device)
            parts.append([x.cpu().numpy() for x in self.module.decode(chunk, check)])
        if not parts:
            m = self.module.max_vertices
            return np.zeros((0, m), np.int64), np.zeros((0, m, m), np.float32), np.zeros(0, np.int64)
        return tuple(np.concatenate([p[i] for p in parts]) for i in range(3))

    def decode(self, z: Any, choose_valid: bool = True) -> list[Architecture | None]:
        """One architecture per latent point; ``None`` where the decoded graph is not a valid cell."""
        types, adj, n = self.decode_arrays(z, choose_valid=choose_valid)
        return to_archs(self.space, types, adj.astype(np.int8), n)

    def fit_prior(self, graphs: GraphArrays, batch_size: int = 2048) -> GraphVAE:
        """Store the per-dimension mean and std of the posterior means of ``graphs`` as the prior.

        This is how arch2vec generates (its ``pretraining_nasbench101.py`` samples
        ``randn * Z.std(0) + Z.mean(0)`` over the training embeddings, per vertex slot): its
        KL weight is too small to pull the posteriors onto N(0, I), so N(0, I) samples fall
        where the decoder was never trained. SVGe samples N(0, I) and does not call this.
        """
        z = self.encode_arrays(graphs, batch_size)
        self.meta["prior"] = {
            "mean": z.mean(0).round(6).tolist(),
            "std": z.std(0).round(6).tolist(),
            "graphs": len(z),
        }
        return self

    def prior(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` latent points from the model's prior: N(0, I), or the fitted Gaussian of :meth:`fit_prior`."""
        z = rng.standard_normal((int(n), self.latent_dim)).astype(np.float32)
        fitted = self.meta.get("prior")
        if fitted:
            z = z * np.asarray(fitted["std"], np.float32) + np.asarray(fitted["mean"], np.float32)
        return z

    def sample(self, n: int, rng: np.random.Generator, choose_valid: bool = True) -> list[Architecture | None]:
        """Decodes of ``n`` points drawn from the prior (see :meth:`prior`)."""
        return self.decode(self.prior(n, rng), choose_valid=choose_valid)

    # -- walks --------------------------------------------------------------------------------
    def _latent_of(self, a: Architecture | np.ndarray) -> np.ndarray:
        if isinstance(a, Architecture):
            return self.encode([a])[0]
        return self._check_latent(a)[0]

    def line(self, a: Architecture | np.ndarray, b: Architecture | np.ndarray, steps: int) -> np.ndarray:
        if steps < 2:
            raise InvalidOption("an interpolation needs at least 2 steps")
        za, zb = self._latent_of(a), self._latent_of(b)
        w = np.linspace(0.0, 1.0, int(steps), dtype=np.float32)[:, None]
        return (1 - w) * za + w * zb

    def interpolate(
        self, a: Architecture | np.ndarray, b: Architecture | np.ndarray, steps: int = 8
    ) -> list[Architecture | None]:
        """Decodes of ``steps`` equidistant points on the segment from a's latent to b's (ends included)."""
        return self.decode(self.line(a, b, steps))

    def circle_points(
        self, a: Architecture | np.ndarray, steps: int, rng: np.random.Generator, radius: float = 1.0
    ) -> np.ndarray:
        if steps < 3:
            raise InvalidOption("a circle walk needs at least 3 steps")
        za = self._latent_of(a)
        basis, _ = np.linalg.qr(rng.standard_normal((self.latent_dim, 2)))
        u, w = basis[:, 0].astype(np.float32), basis[:, 1].astype(np.float32)
        theta = 2 * np.pi * np.arange(int(steps)) / int(steps)
        centre = za - radius * u
        return (centre + radius * (np.cos(theta)[:, None] * u + np.sin(theta)[:, None] * w)).astype(np.float32)

    def circle(
        self, a: Architecture | np.ndarray, steps: int, rng: np.random.Generator, radius: float = 1.0
    ) -> list[Architecture | None]:
        """Decodes of ``steps`` equidistant points on a circle through a's latent, in a random 2-D plane."""
        return self.decode(self.circle_points(a, steps, rng, radius))

    # -- files --------------------------------------------------------------------------------
    def save(self, path: str | Path, half: bool = False) -> Path:
        """Weights only (no optimiser); ``half`` stores float16 weights (smaller shipped files)."""
        state = {
            k: (v.half() if half and v.is_floating_point() else v).cpu() for k, v in self.module.state_dict().items()
        }
        return save_artifact(
            path,
            FORMAT,
            FORMAT_VERSION,
            kind=self.kind,
            space=self.space.name,
            config=json.dumps(dataclasses.asdict(self.module.config)),
            meta=json.dumps(self.meta),
            model=state,
        )

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> GraphVAE:
        state = load_artifact(path, FORMAT, (FORMAT_VERSION,), what="VAE")
        try:
            config = json.loads(state["config"])
            space = config.pop("space")
            with isolated_rng():  # the initial weights are replaced at once; the caller's RNG stays put
                module = build_module(state["kind"], space, **config)
            weights = {k: v.float() if v.is_floating_point() else v for k, v in state["model"].items()}
            module.load_state_dict(weights)
            meta = json.loads(state.get("meta", "{}"))
        except (KeyError, TypeError, ValueError, RuntimeError) as err:
            raise CheckpointError(f"{path}: corrupt VAE file ({type(err).__name__}: {err})") from None
        module.to(resolve_device(device))
        return cls(state["kind"], space, module, meta)


def default_paths(kind: str, space: str) -> list[Path]:
    """Where ``load_vae`` looks, in order: the cache (a model you trained), then the shipped assets."""
    name = model_filename(kind, space)
    return [cache_dir("vae", create=False) / name, ASSETS_DIR / "vae" / name]


def load_vae(kind: str, space: str | SearchSpace, path: str | Path | None = None, device: str = "auto") -> GraphVAE:
    """A trained SVGe (``kind="svge"``) or arch2vec (``"arch2vec"``) for ``space``.

    Looks in ``$ARCHPRED_CACHE_DIR/vae/{kind}_{space}.pt`` (written by ``train vae``), then in
    the shipped ``assets/vae/``; ``path`` names a file explicitly.
    """
    check_kind(kind)
    space_name = space if isinstance(space, str) else space.name
    get_space(space_name)  # a clear error for an unknown space
    candidates = [Path(path)] if path is not None else default_paths(kind, space_name)
    for candidate in candidates:
        if candidate.exists():
            model = GraphVAE.load(candidate, device=device)
            if (model.kind, model.space.name) != (kind, space_name):
                raise CheckpointError(
                    f"{candidate} is a {model.kind} model for {model.space.name}, not {kind} for {space_name}"
                )
            return model
    where = " or ".join(str(c) for c in candidates)
    raise CheckpointError(
        f"no trained {kind} model for {space_name} (looked in {where}); train one with: {train_command(kind, space_name)}"
    )


def train_command(kind: str, space: str) -> str:
    """The command that trains the ``kind`` model of ``space`` where ``load_vae`` finds it."""
    if kind in IO_VAE_KINDS:  # NB-101 only: the IO dataset's networks are NB-101 cells
        return f"python -m archpred train io-vae --kind {kind}"
    return f"python -m archpred train vae --kind {kind} --space {space}"
