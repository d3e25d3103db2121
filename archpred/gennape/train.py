"""Pretrain GENNAPE on NB-101 (the paper's protocol, resumable stage by stage).

1. NB-101 CGs (``families.load_family("nb101")``), split 80 / 10 / 10 (train, validation 1,
   validation 2) with a fixed split seed.
2. The contrastive encoder on every training CG (self-supervised: no labels), checkpointed
   every epoch.
3. CL embeddings of all NB-101 CGs; regressors learn from training cells with accuracy >= 80 %
   only (the paper prunes the rest); Eq. 5's statistics and the FCM centroids come from them.
4. Each member is trained with ``seeds`` seeds; the one with the best SRCC on validation 2 is
   kept (the paper's "best model"). Every finished member is saved at once under ``workdir``,
   so a killed run loses at most the member in progress.

Validation 1 is not used: the paper only tracks its loss. Validation 2 is reported on cells with
accuracy >= 80 % too, like the training cells (say so wherever the numbers appear).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from archpred.errors import InvalidOption
from archpred.gennape.members import Features, FlopsMember, Member, TrainSettings, member_from_state
from archpred.gennape.model import Gennape
from archpred.options import check_values

ALL_MEMBERS = ("cl", "cl+t", "cl+fcm", "cl+fcm+t", "cl+pairwise", "cl+fcm+pairwise", "kgnn", "flops")


@dataclass(frozen=True)
class GennapeTrainConfig:
    """Paper defaults where it gives them (supplementary): CL batch 128, tau 0.05, heads 4 x 256
    (classifiers 4 x 128), 40 epochs, lr 1e-4, batch 32, [C, m] = [16, 4.0] for regressors and
    [11, 3.5] for classifiers (their grid's picks), 5 seeds, best by validation-2 SRCC.

    Ours, where the paper is silent or does not work as written:

    - ``spectral_temperature`` 0.05 (= the CL temperature): soft positives are
      softmax(-sigma / 0.05). Taken literally (softmax(-sigma)), CG spectral distances of 0.02-0.3
      make the targets nearly uniform and the loss is lowest when every projection collapses to
      one point; with equal temperatures the optimum puts cosine similarity ~ 1 - sigma.
    - ``cl_train_size``: the encoder learns from a random subset of the training split (CPU time:
      about 15-25 CGs/s per training step on one core).
    - ``built_only``: use the NB-101 CGs already cached instead of building all 20,001.
    - ``fcm_grid``: the paper's grid, C in 10..20 x m in 2.0..4.0 step 0.5, picked by validation-2
      SRCC of a CL+FCM+T (CL+FCM+Pairwise) member trained ``grid_epochs`` epochs per point (the
      paper trains each fully). FCM starts from k-means: from skfuzzy's random start every
      membership ends at 1/C on 32-d embeddings. ``clusters``/``fuzziness`` apply without the grid.
    """

    cl_epochs: int = 40
    head_epochs: int = 40
    kgnn_epochs: int = 40
    seeds: int = 5
    limit: int | None = None
    clusters: int = 16
    fuzziness: float = 4.0
    pair_clusters: int = 11
    pair_fuzziness: float = 3.5
    min_accuracy: float = 0.80
    split_seed: int = 0
    members: tuple[str, ...] = ALL_MEMBERS
    cl_batch_size: int = 128
    cl_train_size: int | None = None
    spectral_temperature: float = 0.05
    built_only: bool = False
    batch_size: int = 32
    lr: float = 1e-4
    fcm_grid: bool = True
    grid_epochs: int = 10
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_values(type(self), {f.name: getattr(self, f.name) for f in fields(self)}, "GENNAPE")
        unknown = sorted(set(self.members) - set(ALL_MEMBERS))
        if unknown:
            raise InvalidOption(f"unknown GENNAPE member(s) {', '.join(unknown)}; choose from {', '.join(ALL_MEMBERS)}")
        for name in ("cl_epochs", "head_epochs", "kgnn_epochs", "seeds", "clusters", "pair_clusters"):
            if int(getattr(self, name)) < 1:
                raise InvalidOption(f"{name} must be >= 1")
        if not (self.fuzziness > 1 and self.pair_fuzziness > 1):
            raise InvalidOption(f"the FCM fuzziness m must be > 1, got {self.fuzziness}, {self.pair_fuzziness}")


def split_rows(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """80 / 10 / 10 rows (train, validation 1, validation 2) of one seeded permutation."""
    order = np.random.default_rng(seed).permutation(n)
    a, b = int(0.8 * n), int(0.9 * n)
    return np.sort(order[:a]), np.sort(order[a:b]), np.sort(order[b:])


def build_member(name: str, embed_dim: int, config: GennapeTrainConfig, context: dict[str, Any]) -> Member:
    """An untrained member (inside the caller's ``seeded`` block, so its weights follow the seed)."""
    from archpred.gennape.heads import MLPEnsemble, PairwiseClassifier
    from archpred.gennape.kgnn import KGNN, KGNNConfig
    from archpred.gennape.members import KGNNMember, PairwiseMember, RegressorMember

    if name == "flops":
        return FlopsMember(name)
    if name == "kgnn":
        return KGNNMember(name, KGNN(KGNNConfig()), context["plain"])
    if name.endswith("pairwise"):
        clusters = context["pair_clusters"] if "+fcm" in name else None
        heads = config.pair_clusters if clusters is not None else 1
        head = PairwiseClassifier(embed_dim + 1, heads, hidden=128, layers=4, latent=16)  # + z log-FLOPs
        return PairwiseMember(name, head, clusters)
    clusters = context["clusters"] if "+fcm" in name else None
    heads = config.clusters if clusters is not None else 1
    transform = context["flops_t"] if name.endswith("+t") else context["plain"]
    return RegressorMember(name, MLPEnsemble(embed_dim + 1, heads, hidden=256, layers=4), transform, clusters)


GRID_C = tuple(range(10, 21))
GRID_M = (2.0, 2.5, 3.0, 3.5, 4.0)


def _fcm_grid(member, config, context, train, y_train, val, y_val, work, seed, device, log):  # noqa: ANN001, ANN202
    """(C, m, results) of the grid point whose short-trained ``member`` ranks validation 2 best;
    results are saved as they finish (a rerun skips them)."""
    from archpred.artifacts import atomic_write_text
    from archpred.gennape.fcm import FuzzyClusters
    from archpred.training import seeded

    path = work / f"fcm-grid-{member}.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    key = "pair_clusters" if "pairwise" in member else "clusters"
    for c in GRID_C:
        for m in GRID_M:
            name = f"{c},{m}"
            if name in results:
                continue
            clusters = FuzzyClusters(c, m, seed=seed, init="kmeans").fit(train.embedding, train.flops)
            trial = dataclasses.replace(config, clusters=c, pair_clusters=c)
            settings = TrainSettings(
                epochs=config.grid_epochs, batch_size=config.batch_size, lr=config.lr, seed=seed, device=device
            )
            with seeded(seed):
                candidate = build_member(member, train.embedding.shape[1], trial, {**context, key: clusters})
            candidate.fit(train, y_train, settings)
            results[name] = {**evaluate_member(candidate, val, y_val), "pc": clusters.partition_coefficient_}
            atomic_write_text(path, json.dumps(results))
            log(f"FCM grid {member} C={c} m={m}: SRCC {results[name]['srcc']:.4f}")
    best = max(results, key=lambda k: results[k]["srcc"])
    c, m = best.split(",")
    return int(c), float(m), results


def evaluate_member(member: Member, feats: Features, accuracy: np.ndarray) -> dict[str, float]:
    from archpred.metrics import kendall_tau, mae, spearman

    pred = member.score(feats)
    out = {"srcc": spearman(accuracy, pred), "kendall_tau": kendall_tau(accuracy, pred)}
    if member.returns_accuracy:
        out["mae"] = mae(accuracy, pred)
    return out


def train_gennape(
    config: GennapeTrainConfig,
    workdir: str | Path,
    *,
    seed: int = 0,
    device: str = "auto",
    progress: bool = True,
    log: Callable[[str], None] = print,
    workers: int = 1,
) -> Gennape:
    """Pretrain on NB-101 (see the module docstring); resumes from what ``workdir`` holds.
    ``workers`` processes build the missing CGs."""
    from archpred.gennape.families import load_family

    family = load_family(
        "nb101",
        limit=config.limit,
        progress=(lambda d, n: log(f"CGs {d}/{n}")) if progress else None,
        built_only=config.built_only,
        workers=workers,
    )
    log(f"NB-101: {len(family)} CGs")
    return fit_gennape(
        family.graphs, family.accuracy, config, workdir, seed=seed, device=device, progress=progress, log=log
    )


def fit_gennape(
    graphs: Any,
    accuracy: np.ndarray,
    config: GennapeTrainConfig,
    workdir: str | Path,
    *,
    seed: int = 0,
    device: str = "auto",
    progress: bool = True,
    log: Callable[[str], None] = print,
    encoder_config: Any = None,
) -> Gennape:
    """GENNAPE fitted to one training family (a ``GraphSet`` and its accuracies)."""
    from archpred.artifacts import atomic_write, load_torch, save_torch
    from archpred.gennape.contrastive import CLTrainConfig, embed, train_encoder
    from archpred.gennape.encoder import EncoderConfig
    from archpred.gennape.fcm import FuzzyClusters
    from archpred.gennape.transform import FlopsTransform, IdentityTransform
    from archpred.training import seeded

    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    acc, flops = np.asarray(accuracy, dtype=np.float64), graphs.flops
    train, _val1, val2 = split_rows(len(graphs), config.split_seed)
    log(f"{len(train)} train / {len(val2)} validation-2 CGs")

    cl_rows = train
    if config.cl_train_size is not None and config.cl_train_size < len(train):
        cl_rows = np.sort(np.random.default_rng(config.split_seed).choice(train, config.cl_train_size, replace=False))
    encoder, history = train_encoder(
        graphs.subset(cl_rows),
        encoder_config or EncoderConfig(),
        CLTrainConfig(
            epochs=config.cl_epochs,
            batch_size=config.cl_batch_size,
            spectral_temperature=config.spectral_temperature,
        ),
        seed=seed,
        device=device,
        checkpoint=work / "encoder.ckpt",
        progress=progress,
    )
    log(f"encoder: {len(history)} epochs, last loss {history[-1]['loss']:.4f}" if history else "encoder ready")
    cached = work / f"embedding-{len(history)}-{len(graphs)}.npy"  # one per encoder state and family
    if cached.exists():
        embedding = np.load(cached)
    else:
        embedding = np.asarray(embed(encoder, graphs, device=device), np.float32)
        atomic_write(cached, lambda tmp: np.save(tmp, embedding))
    feats = Features(embedding, flops, graphs)

    good = acc >= config.min_accuracy
    reg_train, reg_val2 = train[good[train]], val2[good[val2]]
    train_feats, val_feats = feats.subset(reg_train), feats.subset(reg_val2)
    context: dict[str, Any] = {
        "flops_t": FlopsTransform.fit(acc[reg_train], flops[reg_train]),
        "plain": IdentityTransform.fit(acc[reg_train], flops[reg_train]),
    }
    grid: dict[str, Any] = {}
    for key, member, c, m in (
        ("clusters", "cl+fcm+t", config.clusters, config.fuzziness),
        ("pair_clusters", "cl+fcm+pairwise", config.pair_clusters, config.pair_fuzziness),
    ):
        if config.fcm_grid:
            c, m, grid[member] = _fcm_grid(
                member, config, context, train_feats, acc[reg_train], val_feats, acc[reg_val2], work, seed, device, log
            )
        context[key] = FuzzyClusters(c, m, seed=seed, init="kmeans").fit(train_feats.embedding, train_feats.flops)
        log(f"{key}: C={c}, m={m}, partition coefficient {context[key].partition_coefficient_:.3f} (1/C = {1 / c:.3f})")
    members: dict[str, Member] = {}
    report: dict[str, Any] = {}
    for name in config.members:
        best, best_metrics, runs = None, None, []
        for s in range(config.seeds if name != "flops" else 1):
            path = work / "members" / f"{name}-seed{s}.pt"
            if path.exists():
                saved = load_torch(path, what="GENNAPE member")
                member, metrics = member_from_state(saved["member"]), json.loads(saved["metrics"])
            else:
                epochs = config.kgnn_epochs if name == "kgnn" else config.head_epochs
                settings = TrainSettings(
                    epochs=epochs, batch_size=config.batch_size, lr=config.lr, seed=seed * 1000 + s, device=device
                )
                with seeded(settings.seed):
                    member = build_member(name, encoder.config.embed_dim, config, context)
                member.fit(train_feats, acc[reg_train], settings)
                metrics = evaluate_member(member, val_feats, acc[reg_val2])
                save_torch(path, {"member": member.state(), "metrics": json.dumps(metrics)})
            log(f"{name} seed {s}: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
            runs.append(metrics)
            if best_metrics is None or metrics["srcc"] > best_metrics["srcc"]:
                best, best_metrics = member, metrics
        members[name] = best
        report[name] = {"best": best_metrics, "runs": runs}
    info = {
        "trained_on": "nb101",
        "cells": len(graphs),
        "split": {"train": len(train), "validation_2": len(val2), "seed": config.split_seed, "cl": len(cl_rows)},
        "regressor_cells": {"train": len(reg_train), "validation_2": len(reg_val2)},
        "config": json.dumps(asdict(config)),
        "seed": seed,
        "validation_2": json.dumps(report),
        "encoder_history": json.dumps(history),
        "fcm": json.dumps(
            {
                k: {"C": context[k].n_clusters, "m": context[k].m, "pc": context[k].partition_coefficient_}
                for k in ("clusters", "pair_clusters")
            }
        ),
        "fcm_grid": json.dumps(grid),
    }
    return Gennape(encoder, members, info=info)
