"""``train predictor``: fit one predictor on a benchmark's real data and save it.

    python -m archpred train predictor --name gnn --space nb201 --train-size 1000 --seed 0 \\
        --set epochs=100 --out model.pt
"""

from __future__ import annotations

import argparse
import json

from archpred.cli.common import add_runtime, add_space, command_line, parse_key_values


def register(sub: argparse._SubParsersAction) -> None:
    from archpred.predictors import PREDICTORS

    p = sub.add_parser("predictor", help="fit an accuracy predictor on real benchmark data")
    p.add_argument("--name", required=True, choices=list(PREDICTORS), help="predictor to train")
    add_space(p, default="nb201")
    p.add_argument("--train-size", type=int, default=1000, help="training cells, drawn at random (default 1000)")
    p.add_argument("--test-size", type=int, default=5000, help="held-out cells scored after training")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config field (repeatable)")
    p.add_argument("--out", default=None, help="model file (default: the cache's predictors folder)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_runtime(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Fit on ``--train-size`` random cells, save, and print the scores on the held-out ones."""

    from archpred.data import load_benchmark
    from archpred.metrics import evaluate
    from archpred.predictors import make_predictor
    from archpred.predictors.store import default_path, model_card

    config = parse_key_values(args.set, "--set")
    model = make_predictor(args.name, seed=args.seed, device=args.device, progress=not args.quiet, **config)
    bench = load_benchmark(args.space)
    if not 2 <= args.train_size < len(bench) - 1:
        raise ValueError(f"--train-size must be between 2 and {len(bench) - 2}")
    if not args.test_size >= 2:
        raise ValueError(f"--test-size must be at least 2 (held-out cells to score), got {args.test_size}")
    train, test = bench.random_split(args.train_size, args.test_size, args.seed)
    model.fit([bench.archs[i] for i in train], bench.accuracy[train])
    scores = evaluate(bench.accuracy[test], model.predict([bench.archs[i] for i in test]))
    out = args.out or default_path(args.space, args.name, f"n{args.train_size}-s{args.seed}")
    card = model_card(
        args.space, bench.target, len(train), len(test), args.seed, command_line("train predictor", args), scores
    )
    model.save(out, card=card)  # only a model that trained and scored is saved
    print(f"saved {out}")
    print(json.dumps({"test_size": len(test), **{k: round(v, 5) for k, v in scores.items()}}))
    return 0
