"""``train gennape``: pretrain GENNAPE on NB-101 (resumable: each stage is saved as it ends)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from archpred.cli.common import add_runtime, positive_int


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "gennape",
        help="pretrain GENNAPE (CL encoder, FCM ensembles, pairwise classifiers, k-GNN) on NB-101",
        description="Paper protocol on our 20,001 NB-101 cells: 80/10/10 split, regressors on cells >= 80%% "
        "accuracy, each member trained with --seeds seeds and the best by validation-2 SRCC kept. The work "
        "folder holds the encoder checkpoint (every epoch) and every finished member: rerunning resumes.",
    )
    p.add_argument("--out", type=Path, required=True, help="model file (read by load_gennape(path))")
    p.add_argument("--workdir", type=Path, default=None, help="resumable state (default: beside --out)")
    p.add_argument("--cl-epochs", type=positive_int, default=40)
    p.add_argument("--epochs", type=positive_int, default=40, help="epochs of every head and classifier")
    p.add_argument("--kgnn-epochs", type=positive_int, default=40)
    p.add_argument("--seeds", type=positive_int, default=5, help="runs per member; the best is kept")
    p.add_argument("--limit", type=positive_int, default=None, help="only the first N NB-101 cells")
    p.add_argument("--cl-train-size", type=positive_int, default=None, help="CL encoder on N random training CGs")
    p.add_argument("--built-only", action="store_true", help="only the NB-101 CGs already cached (a uniform sample)")
    p.add_argument("--no-fcm-grid", action="store_true", help="skip the FCM grid: use --clusters/--fuzziness")
    p.add_argument("--clusters", type=positive_int, default=16, help="FCM C of the regressors (no grid; paper: 16)")
    p.add_argument("--fuzziness", type=float, default=4.0, help="FCM m of the regressors (no grid; paper: 4.0)")
    p.add_argument("--pair-clusters", type=positive_int, default=11, help="FCM C of the classifiers (paper: 11)")
    p.add_argument("--pair-fuzziness", type=float, default=3.5, help="FCM m of the classifiers (paper: 3.5)")
    p.add_argument("--members", default=None, help="comma list (default: all)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--half", action="store_true", help="store float16 weights (the shipped model)")
    p.add_argument("--ensemble-only", action="store_true", help="leave out the ablation members (CL, CL+FCM)")
    p.add_argument("--workers", type=positive_int, default=1, help="processes that build the missing CGs")
    p.add_argument("--no-progress", action="store_true")
    add_runtime(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from archpred.gennape.train import ALL_MEMBERS, GennapeTrainConfig, train_gennape

    members = tuple(m.strip() for m in args.members.split(",")) if args.members else ALL_MEMBERS
    config = GennapeTrainConfig(
        cl_epochs=args.cl_epochs,
        head_epochs=args.epochs,
        kgnn_epochs=args.kgnn_epochs,
        seeds=args.seeds,
        limit=args.limit,
        members=members,
        cl_train_size=args.cl_train_size,
        built_only=args.built_only,
        fcm_grid=not args.no_fcm_grid,
        clusters=args.clusters,
        fuzziness=args.fuzziness,
        pair_clusters=args.pair_clusters,
        pair_fuzziness=args.pair_fuzziness,
    )
    workdir = args.workdir or args.out.with_name(args.out.stem + ".work")
    print(f"GENNAPE: work folder {workdir} (rerun the same command to resume)", file=sys.stderr)
    model = train_gennape(
        config,
        workdir,
        seed=args.seed,
        device=args.device,
        progress=not args.no_progress,
        log=lambda text: print(text, file=sys.stderr, flush=True),
        workers=args.workers,
    )
    model.save(args.out, half=args.half, ensemble_only=args.ensemble_only)
    print(f"saved {args.out}")
    return 0
