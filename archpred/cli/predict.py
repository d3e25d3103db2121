"""``predict``: GENNAPE's accuracy estimate for one network (an ONNX file or a cell)."""

from __future__ import annotations

import argparse
from pathlib import Path

from archpred.cli.common import add_runtime, read_cell_text


def register(sub: argparse._SubParsersAction) -> None:
    from archpred.spaces import SPACES

    p = sub.add_parser(
        "predict",
        help="predict a network's accuracy with GENNAPE (an ONNX file, or a cell of any space)",
        description="Prints one line: the predicted CIFAR-10 accuracy of the network, its FLOPs and parameters.",
    )
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--onnx", type=Path, help="an ONNX model file")
    what.add_argument("--cell", help="a cell as JSON / NB-201 string, @FILE or - (with --space)")
    p.add_argument("--space", choices=sorted(SPACES), help="the cell's search space")
    p.add_argument("--input-shape", default=None, help="C,H,W of the ONNX model's input, e.g. 3,32,32")
    p.add_argument("--model", type=Path, default=None, help="a GENNAPE file (default: the shipped NB-101 model)")
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
