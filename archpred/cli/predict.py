"""``predict``: GENNAPE's accuracy estimate for one network (an ONNX file or a cell), or a
saved predictor's estimate for every cell of its space (``--all``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from archpred.cli.common import add_runtime, read_cell_text


def register(sub: argparse._SubParsersAction) -> None:
    from archpred.spaces import SPACES

    p = sub.add_parser(
        "predict",
        help="predict a network's accuracy with GENNAPE (an ONNX file, or a cell of any space), "
        "or score every cell of a space with a saved predictor (--all)",
        description="Prints one line: the predicted CIFAR-10 accuracy of the network, its FLOPs and parameters. "
        "With --all: a saved predictor (--model, from `train predictor`) scores every cell of its space "
        "(NB-101: all 423,624) and --out gets one row per cell (key, prediction) as .csv or .npz.",
    )
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--onnx", type=Path, help="an ONNX model file")
    what.add_argument("--cell", help="a cell as JSON / NB-201 string, @FILE or - (with --space)")
    what.add_argument("--all", action="store_true", help="every cell of the space, scored by --model (a predictor)")
    p.add_argument("--space", choices=sorted(SPACES), help="the cell's search space")
    p.add_argument("--input-shape", default=None, help="C,H,W of the ONNX model's input, e.g. 3,32,32")
    p.add_argument(
        "--model",
        type=Path,
        default=None,
        help="a GENNAPE file (default: the shipped NB-101 model); with --all a saved predictor",
    )
    p.add_argument("--out", type=Path, default=None, help="with --all: the scores file, .csv or .npz")
    p.add_argument("--member", default=None, help="one member's prediction instead of the ensemble's")
    add_runtime(p)
    p.set_defaults(func=run)


def _input_shape(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        shape = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"--input-shape must be C,H,W integers, got {text!r}") from None
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"--input-shape must be three positive integers C,H,W, got {text!r}")
    return shape


def run(args: argparse.Namespace) -> int:
    if args.all:
        return _score_all(args)
    if args.out is not None:
        raise ValueError("--out goes with --all")
    from archpred.gennape.model import load_gennape

    shape = _input_shape(args.input_shape)
    if args.cell is not None:
        if args.space is None:
            raise ValueError("--cell needs --space")
        from archpred.spaces import get_space

        item, label = get_space(args.space).parse(read_cell_text(args.cell)), f"{args.space} cell"
    else:
        item, label = args.onnx, args.onnx.name
    model = load_gennape(args.model, device=args.device)
    feats = model.features([item], input_shape=shape)
    acc = float(model.predict(feats.graphs, member=args.member)[0])
    who = f"GENNAPE member {args.member}" if args.member else "GENNAPE"
    flops, params = feats.graphs.flops[0], feats.graphs.params[0]
    print(
        f"{label}: predicted accuracy {100 * acc:.2f} % ({who}); {flops / 1e6:.1f} M FLOPs, {params / 1e6:.3f} M params"
    )
    return 0


def _score_all(args: argparse.Namespace) -> int:
    """``--all``: a saved predictor's estimate for every cell of its space, written to ``--out``."""
    from archpred.predictors import load_predictor, score_space

    if args.model is None or args.out is None:
        raise ValueError("--all needs --model (a saved predictor) and --out (.csv or .npz)")
    if args.out.suffix not in (".csv", ".npz"):
        raise ValueError(f"--out must end in .csv or .npz, got {args.out.name!r}")
    if args.member or args.input_shape:
        raise ValueError("--member and --input-shape are GENNAPE's; --all scores with a saved predictor")
    model = load_predictor(str(args.model), device=args.device)
    if args.space is not None and args.space != model.space_.name:
        raise ValueError(f"{args.model} predicts {model.space_.name} cells, not {args.space}")
    scores = score_space(model, progress=True)
    _write_scores(args.out, scores)
    key, best = scores.top(1)[0]
    print(
        f"scored {len(scores):,} {scores.space} cells in {scores.seconds:.1f} s ({model.name}); "
        f"best predicted {100 * best:.2f} % ({key}); wrote {args.out}"
    )
    return 0


def _write_scores(path: Path, scores) -> None:  # noqa: ANN001 (SpaceScores)
    import numpy as np

    from archpred.artifacts import atomic_write, atomic_write_text

    if path.suffix == ".npz":
        atomic_write(path, lambda tmp: np.savez(tmp, keys=scores.keys.astype(np.str_), predictions=scores.predictions))
        return
    rows = "\n".join(f"{k},{p:.6f}" for k, p in zip(scores.keys, scores.predictions))
    atomic_write_text(path, f"key,prediction\n{rows}\n")
