"""``bench NAME ...``: reproducible measurements. Each NAME's harness is ``archpred.bench.NAME``,
run through its ``run_*(config)`` on a frozen dataclass; the options are here, nowhere else.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from archpred.cli.common import add_runtime, command_line, given_command, positive_int
from archpred.vae import VAE_KINDS, VAE_SPACES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="benchmarks and paper reproductions (write reports)")
    bsub = p.add_subparsers(dest="bench_command", metavar="NAME", required=True)
    for add in (
        _add_data,
        _add_predictors,
        _add_vae,
        _add_io,
        _add_networks,
        _add_app,
        _add_screenshots,
        _add_walk_radius,
        _add_search,
        _add_gennape,
        _add_cg_search,
        _add_scoring,
    ):
        add(bsub)


def _render_json_report(out: Path, render_report: Callable[[dict, Path], Any]) -> int:
    """``--render-only``: the Markdown beside a JSON report, rewritten from it; nothing runs."""
    import json

    if not out.is_file():
        raise FileNotFoundError(f"no report to render: {out}")
    print(render_report(json.loads(out.read_text()), out.with_suffix(".md")))
    return 0


def _split(text: str) -> tuple[str, ...]:
    """A comma list as a tuple, blanks dropped."""
    return tuple(item.strip() for item in text.split(",") if item.strip())


# -- bench data -------------------------------------------------------------------------------
def _add_data(bsub: argparse._SubParsersAction) -> None:
    p = bsub.add_parser("data", help="benchmark load times; NB-101 enumeration time and cache size")
    p.add_argument("--enumerate", action="store_true", help="also enumerate NB-101 from scratch into a temporary cache")
    p.add_argument("--out", type=Path, help="write the results as JSON here")
    add_runtime(p)
    p.set_defaults(func=cmd_data)


def cmd_data(args: argparse.Namespace) -> int:
    from archpred.bench.data import DataBenchConfig, run_data

    run_data(DataBenchConfig(enumerate=args.enumerate, out=args.out))
    return 0


# -- bench predictors -------------------------------------------------------------------------
def _add_predictors(bsub: argparse._SubParsersAction) -> None:
    from archpred.bench.predictor_protocols import PROFILES, PROTOCOLS, VARIANTS

    p = bsub.add_parser("predictors", help="reproduce the GNN-surrogate and Neural Predictor papers' protocols")
    p.add_argument("--out", default="reports/predictors", help="report path without suffix (.json and .md)")
    p.add_argument("--protocols", default=",".join(PROTOCOLS), help=f"comma list of {', '.join(PROTOCOLS)}")
    p.add_argument("--predictors", default="all", help=f"comma list of variants: {', '.join(VARIANTS)}")
    p.add_argument("--spaces", default="nb201,nb101", help="spaces of the size sweep")
    p.add_argument("--seeds", type=int, default=5, help="seeds of the size sweep and the tricks")
    p.add_argument("--np-splits", type=int, default=10, help="random splits of the N=172 experiment")
    p.add_argument("--np-cv", action="store_true", help="N=172: choose hidden size by 3-fold CV (slower)")
    p.add_argument("--profile", choices=PROFILES, default="quick", help="training lengths")
    p.add_argument("--fresh", action="store_true", help="ignore results already in the JSON")
    p.add_argument("--progress", action="store_true", help="progress bars of every fit")
    p.add_argument("--render-only", action="store_true", help="rewrite the markdown from the JSON and stop")
    add_runtime(p, threads=1)  # one thread: the recorded fit times are comparable across runs
    p.set_defaults(func=cmd_predictors)


def cmd_predictors(args: argparse.Namespace) -> int:
    from archpred.bench.predictors import PredictorsBenchConfig, render_report, run_predictors

    if args.render_only:
        render_report(args.out)
        return 0
    config = PredictorsBenchConfig(
        out=Path(args.out),
        protocols=_split(args.protocols),
        predictors=None if args.predictors == "all" else _split(args.predictors),
        spaces=_split(args.spaces),
        seeds=args.seeds,
        np_splits=args.np_splits,
        np_cv=args.np_cv,
        profile=args.profile,
        device=args.device,
        fresh=args.fresh,
        progress=args.progress,
        command=given_command(args),
    )
    run_predictors(config)
    return 0


# -- bench io ---------------------------------------------------------------------------------
def _add_io(bsub: argparse._SubParsersAction) -> None:
    from archpred.bench.io import MODELS, SECTIONS

    p = bsub.add_parser("io", help="the IO dataset and the IO / Accuracy models (arch2vec + input-output information)")
    p.add_argument("--data", type=Path, default=None, help="IO dataset folder (default: the data io-build default)")
    p.add_argument("--what", choices=SECTIONS, action="append", help="repeatable (default: all)")
    p.add_argument("--kind", choices=MODELS, action="append", help="models compared (default: all three)")
    p.add_argument("--io-model", type=Path, default=None, help="IO model file (default: load_vae's search)")
    p.add_argument("--accuracy-model", type=Path, default=None, help="Accuracy model file (default: load_vae's)")
    p.add_argument("--samples", type=positive_int, default=10_000, help="prior samples")
    p.add_argument("--eval-size", type=positive_int, default=10_000, help="held-out NB-101 cells reconstructed")
    p.add_argument("--rf-sizes", type=positive_int, action="append", help="default 608, 2500 and 10000")
    p.add_argument("--seeds", type=positive_int, default=10, help="seeds of each forest size")
    p.add_argument("--reinforce-runs", type=positive_int, default=100, help="REINFORCE runs per model (paper: 100)")
    p.add_argument("--reinforce-budget", type=positive_int, default=150, help="queries per REINFORCE run")
    p.add_argument("--store", type=Path, default=None, help="REINFORCE run store (default: cache dir)")
    p.add_argument("--workers", type=positive_int, default=1, help="processes running REINFORCE runs")
    p.add_argument("--out", type=Path, default=Path("reports/io.json"))
    add_runtime(p)
    p.set_defaults(func=cmd_io)


def cmd_io(args: argparse.Namespace) -> int:
    from archpred.bench.io import MODELS, SECTIONS, IOBenchConfig, run_io

    paths = tuple((k, v) for k, v in (("io", args.io_model), ("io-accuracy", args.accuracy_model)) if v is not None)
    # REINFORCE searches with load_vae's models: with other model files, "all" leaves it out
    default_what = tuple(s for s in SECTIONS if not (paths and s == "reinforce"))
    store = {"store": args.store} if args.store else {}
    run_io(
        IOBenchConfig(
            data=args.data,
            models=tuple(args.kind or MODELS),
            paths=paths,
            what=tuple(args.what or default_what),
            samples=args.samples,
            eval_size=args.eval_size,
            rf_sizes=tuple(args.rf_sizes or (608, 2500, 10_000)),
            seeds=args.seeds,
            reinforce_runs=args.reinforce_runs,
            reinforce_budget=args.reinforce_budget,
            workers=args.workers,
            out=args.out,
            device=args.device,
            command=command_line("bench io", args),
            **store,
        )  # fmt: skip
    )
    return 0


# -- bench vae --------------------------------------------------------------------------------
def _add_vae(bsub: argparse._SubParsersAction) -> None:
    from archpred.bench.vae import SECTIONS

    p = bsub.add_parser("vae", help="graph VAEs: reconstruction, prior samples, isomorphism, predictors, speed")
    p.add_argument("--kind", choices=VAE_KINDS, action="append", help="repeatable (default: both)")
    p.add_argument("--space", choices=VAE_SPACES, default="nb201")
    p.add_argument("--what", choices=SECTIONS, action="append", help="repeatable (default: recon, prior, speed)")
    p.add_argument("--samples", type=int, default=10_000, help="prior samples")
    p.add_argument("--eval-size", type=int, default=None, help="held-out graphs for recon (default: all)")
    p.add_argument("--pairs", type=int, default=11_606, help="isomorphic pairs")
    p.add_argument("--labelled", type=int, action="append", help="predictor training sizes (default 1000)")
    p.add_argument("--pred-epochs", type=int, default=100, help="fine-tuning epochs of the SVGe predictor")
    p.add_argument("--rf-sizes", type=int, action="append", help="default 608 and 2500")
    p.add_argument("--seeds", type=int, default=10, help="seeds of the random-forest runs")
    p.add_argument("--model", type=Path, default=None, help="VAE file (default: load_vae's search)")
    p.add_argument("--out", type=Path, default=Path("reports/vae.json"))
    add_runtime(p)
    p.set_defaults(func=cmd_vae)


def cmd_vae(args: argparse.Namespace) -> int:
    from archpred.bench.vae import VaeBenchConfig, run_vae

    config = VaeBenchConfig(
        kinds=tuple(args.kind or VAE_KINDS),
        space=args.space,
        what=tuple(args.what or ("recon", "prior", "speed")),
        samples=args.samples,
        eval_size=args.eval_size,
        pairs=args.pairs,
        labelled=tuple(args.labelled or (1000,)),
        pred_epochs=args.pred_epochs,
        rf_sizes=tuple(args.rf_sizes or (608, 2500)),
        seeds=args.seeds,
        model=args.model,
        out=args.out,
        device=args.device,
        command=command_line("bench vae", args),
    )
    run_vae(config)
    return 0


# -- bench networks ---------------------------------------------------------------------------
def _add_networks(bsub: argparse._SubParsersAction) -> None:
    p = bsub.add_parser("networks", help="network parameter counts vs NB-101/NB-201/Macro records; digits training")
    p.add_argument(
        "--benchmarks", default="nb101,nb201,macro", help="comma-separated subset of nb101,nb201,macro (or 'none')"
    )
    p.add_argument(
        "--build", default="200", help="records per benchmark also built on the meta device and counted, or 'all'"
    )
    p.add_argument("--train-epochs", type=int, default=0, help="also train an NB-101 cell on digits (0: skip)")
    p.add_argument("--width", type=int, default=16, help="stem channels of the trained NB-101 network")
    p.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    p.add_argument("--no-progress", action="store_true")
    add_runtime(p, threads=1)
    p.set_defaults(func=cmd_networks)


def cmd_networks(args: argparse.Namespace) -> int:
    from archpred.bench.networks import NetworksBenchConfig, run_networks

    if args.build != "all" and not args.build.isdigit():
        raise ValueError(f"--build must be a number or 'all', got {args.build!r}")
    config = NetworksBenchConfig(
        benchmarks=() if args.benchmarks == "none" else _split(args.benchmarks),
        build=None if args.build == "all" else int(args.build),
        train_epochs=args.train_epochs,
        width=args.width,
        device=args.device,
        out=args.out,
        progress=not args.no_progress,
    )
    run_networks(config)
    return 0


# -- bench app --------------------------------------------------------------------------------
def _add_app(bsub: argparse._SubParsersAction) -> None:
    from archpred.bench.app import METHODS, PARTS

    p = bsub.add_parser("app", help="what app users wait for: cold start, page switches, edit, projections")
    p.add_argument("--runs", type=int, default=None, help="repetitions; medians over them (default 5, --quick 2)")
    p.add_argument("--quick", action="store_true", help="smoke test: 2 runs, no page tour, PCA on 300 cells")
    p.add_argument("--parts", default=",".join(PARTS), help=f"comma list of {', '.join(PARTS)}")
    p.add_argument("--methods", default=",".join(METHODS), help="projections to time (comma list)")
    p.add_argument("--rows", type=int, default=2000, help="cells on the projected map")
    p.add_argument("--no-tour", action="store_true", help="time the first page only, no page switches")
    p.add_argument("--out", type=Path, default=Path("reports/app.md"), help="Markdown report (JSON beside it)")
    add_runtime(p)
    p.set_defaults(func=cmd_app)


def _add_screenshots(bsub: argparse._SubParsersAction) -> None:
    p = bsub.add_parser("screenshots", help="the README's pictures of the app, from a real browser")
    p.add_argument("--out", type=Path, default=Path("docs"), help="folder for the PNG files")
    add_runtime(p)
    p.set_defaults(func=cmd_screenshots)


def _add_walk_radius(bsub: argparse._SubParsersAction) -> None:
    p = bsub.add_parser("walk-radius", help="latent-walk circles: distinct cells per radius (the page's default)")
    p.add_argument("--kinds", default="svge,arch2vec", help="VAEs (comma list)")
    p.add_argument("--spaces", default="nb201", help="benchmarks whose cells are the centres (comma list)")
    p.add_argument("--radii", default="0.5,1,2,3,4,6,8", help="circle radii (comma list)")
    p.add_argument("--seeds", type=int, default=5, help="plane seeds 0..N-1")
    p.add_argument("--out", type=Path, default=None, help="also write the Markdown table here")
    add_runtime(p)
    p.set_defaults(func=cmd_walk_radius)


def cmd_walk_radius(args: argparse.Namespace) -> int:
    from archpred.bench.latent_walk_radius import WalkRadiusConfig, render, run_walk_radius, summarise
    from archpred.errors import InvalidOption

    try:
        radii = tuple(float(r) for r in _split(args.radii))
    except ValueError:
        raise InvalidOption(f"--radii must be numbers, got {args.radii!r}") from None
    if not radii or min(radii) <= 0 or args.seeds < 1:
        raise InvalidOption("--radii must be positive and --seeds at least 1")
    config = WalkRadiusConfig(
        kinds=_split(args.kinds),
        spaces=_split(args.spaces),
        radii=radii,
        seeds=tuple(range(args.seeds)),
        device=args.device,
    )
    table = render(summarise(run_walk_radius(config)))
    print(table)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(f"`{given_command(args)}`\n\n{table}\n")
    return 0


def cmd_screenshots(args: argparse.Namespace) -> int:
    from archpred.bench.app_browser import skip_reason
    from archpred.bench.screenshots import take_screenshots
    from archpred.errors import InvalidOption

    reason = skip_reason()
    if reason is not None:
        raise InvalidOption(f"cannot take screenshots: {reason}")
    take_screenshots(args.out)
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    from archpred.bench.app import AppBenchConfig, quick, run_app

    config = AppBenchConfig(
        runs=args.runs if args.runs is not None else (2 if args.quick else 5),
        parts=_split(args.parts),
        tour=not args.no_tour,
        methods=_split(args.methods),
        projection_rows=args.rows,
        device=args.device,
        out=args.out,
        command=given_command(args),
    )
    run_app(quick(config) if args.quick else config)
    return 0


# -- bench search ---------------------------------------------------------------------------------
def _add_search(bsub: argparse._SubParsersAction) -> None:
    from archpred.bench.search import SETTINGS

    p = bsub.add_parser("search", help="every search algorithm on the benchmark tables, many seeds (resumable)")
    p.add_argument("--settings", default=",".join(SETTINGS), help=f"comma list of {', '.join(SETTINGS)}")
    p.add_argument("--algorithms", default="", help="comma list (default: every registered algorithm)")
    p.add_argument("--seeds", type=int, default=50, help="runs per setting and algorithm (default 50)")
    p.add_argument(
        "--seeds-for", action="append", default=[], metavar="ALGORITHM=N", help="fewer seeds for a slow algorithm"
    )
    p.add_argument("--budget", type=int, default=300, help="queries per run (default 300)")
    p.add_argument(
        "--budget-for", action="append", default=[], metavar="ALGORITHM=N", help="a smaller budget for a slow algorithm"
    )
    p.add_argument("--set", action="append", default=[], metavar="ALGORITHM.KEY=VALUE", help="a searcher option")
    p.add_argument("--store", type=Path, default=None, help="run store (default $ARCHPRED_CACHE_DIR/bench/search.db)")
    p.add_argument("--out", type=Path, default=Path("reports/search/search"), help="report path without suffix")
    p.add_argument("--workers", type=int, default=1, help="processes running runs at once (default 1)")
    p.add_argument("--render-only", action="store_true", help="run nothing: report the finished runs in the store")
    add_runtime(p, threads=1)
    p.set_defaults(func=cmd_search)


def cmd_search(args: argparse.Namespace) -> int:
    from archpred.bench.search import SearchBenchConfig, run_search
    from archpred.cli.common import parse_key_values

    options: dict[str, dict] = {}
    for key, value in parse_key_values(args.set, "--set").items():
        algorithm, _, name = key.partition(".")
        algorithm = algorithm.replace("_", "-")  # parse_key_values made field names of the keys
        if not name:
            raise ValueError(f"--set {key}=...: write ALGORITHM.KEY=VALUE, e.g. evolution.population_size=20")
        options.setdefault(algorithm, {})[name] = value
    seeds_for = {k.replace("_", "-"): int(v) for k, v in parse_key_values(args.seeds_for, "--seeds-for").items()}
    budget_for = {k.replace("_", "-"): int(v) for k, v in parse_key_values(args.budget_for, "--budget-for").items()}
    extra = {} if args.store is None else {"store": args.store}
    config = SearchBenchConfig(
        settings=_split(args.settings),
        algorithms=_split(args.algorithms),
        seeds=args.seeds,
        budget=args.budget,
        seeds_by_algorithm=seeds_for,
        budget_by_algorithm=budget_for,
        options=options,
        out=args.out,
        workers=args.workers,
        render_only=args.render_only,
        command=given_command(args),
        **extra,
    )
    run_search(config)
    return 0


# -- bench gennape ----------------------------------------------------------------------------
def _add_gennape(bsub: argparse._SubParsersAction) -> None:
    p = bsub.add_parser("gennape", help="GENNAPE zero-shot and fine-tuned on unseen families, beside the paper")
    p.add_argument("--model", type=Path, default=None, help="GENNAPE file (default: the shipped NB-101 model)")
    tests = "nb201,macro,enas"  # families.FAMILIES minus nb101 (not imported here: --help stays instant)
    p.add_argument(
        "--families", default=tests,
        help=f"comma list of test families (default {tests}; also io: the IO dataset's networks trained here)",
    )  # fmt: skip
    p.add_argument("--limit", type=int, default=None, help="a random subset of N cells per family (default: all)")
    p.add_argument("--seeds", type=int, default=5, help="fine-tuning seeds")
    p.add_argument("--samples", type=int, default=50, help="labelled cells per fine-tuning")
    p.add_argument("--epochs", type=int, default=100, help="fine-tuning epochs")
    p.add_argument("--zero-shot-only", action="store_true", help="skip fine-tuning")
    p.add_argument("--no-speed", action="store_true", help="skip the speed measurements")
    p.add_argument("--built-only", action="store_true", help="only cells whose computation graphs are cached")
    p.add_argument("--render-only", action="store_true", help="rewrite the Markdown from the JSON report")
    p.add_argument("--out", type=Path, default=Path("reports/gennape.json"))
    add_runtime(p)
    p.set_defaults(func=cmd_gennape)


def cmd_gennape(args: argparse.Namespace) -> int:
    from archpred.bench.gennape import GennapeBenchConfig, render_report, run_gennape
    from archpred.gennape.families import FAMILIES, IO_FAMILY

    families = _split(args.families)
    known = [f for f in (*FAMILIES, IO_FAMILY) if f != "nb101"]
    unknown = [f for f in families if f not in known]
    if unknown:
        raise ValueError(f"unknown test family {', '.join(unknown)}; choose from {', '.join(known)}")
    if args.render_only:
        return _render_json_report(args.out, render_report)
    config = GennapeBenchConfig(
        model=args.model,
        families=families,
        limit=args.limit,
        seeds=args.seeds,
        samples=args.samples,
        epochs=args.epochs,
        fine_tune=not args.zero_shot_only,
        speed=not args.no_speed,
        built_only=args.built_only,
        out=args.out,
        device=args.device,
        command=command_line("bench gennape", args),
    )
    run_gennape(config)
    print(f"wrote {args.out} and {args.out.with_suffix('.md')}")
    return 0


# -- bench cg-search --------------------------------------------------------------------------
def _add_cg_search(bsub: argparse._SubParsersAction) -> None:
    p = bsub.add_parser("cg-search", help="GENNAPE's CG local search from the best NB-101/NB-201 cells (paper Table 7)")
    p.add_argument("--model", type=Path, default=None, help="GENNAPE file (default: the shipped NB-101 model)")
    p.add_argument("--starts", default="nb201,nb101", help="comma list of start families: nb101, nb201")
    p.add_argument("--iterations", type=positive_int, default=6, help="search rounds (paper: 6)")
    p.add_argument("--top-k", type=positive_int, default=5, help="networks kept per round")
    p.add_argument("--children", type=positive_int, default=4, help="mutants of each kept network per round")
    p.add_argument("--samples", type=positive_int, default=50, help="NB-201 cells the ranking model is fine-tuned on")
    p.add_argument("--fine-tune-epochs", type=positive_int, default=100)
    p.add_argument("--train-seeds", type=positive_int, default=3, help="digits trainings of each network")
    p.add_argument("--train-epochs", type=positive_int, default=15)
    p.add_argument("--train-width", type=positive_int, default=16, help="stem channels of the digits networks")
    p.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="the searches' round logs (default $ARCHPRED_CACHE_DIR/gennape/cg-search)",
    )
    p.add_argument("--render-only", action="store_true", help="rewrite the Markdown from the JSON report")
    p.add_argument("--out", type=Path, default=Path("reports/gennape_search.json"))
    add_runtime(p)
    p.set_defaults(func=cmd_cg_search)


def cmd_cg_search(args: argparse.Namespace) -> int:
    from archpred.bench.cg_search import CGSearchBenchConfig, render_report, run_cg_search

    starts = _split(args.starts)
    unknown = [s for s in starts if s not in ("nb101", "nb201")]
    if unknown or not starts:
        raise ValueError(f"unknown start family {', '.join(unknown) or '(none)'}; choose from nb101, nb201")
    if args.render_only:
        return _render_json_report(args.out, render_report)
    config = CGSearchBenchConfig(
        model=args.model,
        starts=starts,
        iterations=args.iterations,
        top_k=args.top_k,
        children=args.children,
        samples=args.samples,
        fine_tune_epochs=args.fine_tune_epochs,
        train_seeds=args.train_seeds,
        train_epochs=args.train_epochs,
        train_width=args.train_width,
        workdir=args.workdir,
        out=args.out,
        device=args.device,
        command=command_line("bench cg-search", args),
    )
    run_cg_search(config)
    print(f"wrote {args.out} and {args.out.with_suffix('.md')}")
    return 0


# -- bench scoring ----------------------------------------------------------------------------
def _add_scoring(bsub: argparse._SubParsersAction) -> None:
    p = bsub.add_parser("scoring", help="score every cell of NB-101 / NB-201 with each predictor, against a matmul")
    p.add_argument("--spaces", default="nb101,nb201", help="comma list of spaces to score whole")
    p.add_argument("--predictors", default="neural-predictor,gnn", help="comma list of predictor names")
    p.add_argument("--fit-cells", type=positive_int, default=200, help="cells of the brief fit that sets the weights")
    p.add_argument("--fit-epochs", type=positive_int, default=2)
    p.add_argument("--batch-size", type=positive_int, default=32_768, help="cells per scoring batch")
    p.add_argument("--vaes", default="arch2vec,svge", help="comma list of VAEs whose whole-space embedding is timed")
    p.add_argument("--projections", default="PCA", help="comma list of projections of those embeddings (PCA, UMAP)")
    p.add_argument("--out", type=Path, default=Path("reports/scoring.json"))
    add_runtime(p)
    p.set_defaults(func=cmd_scoring)


def cmd_scoring(args: argparse.Namespace) -> int:
    from archpred.bench.scoring import ScoringBenchConfig, run_scoring
    from archpred.predictors import PREDICTORS
    from archpred.spaces import SPACES
    from archpred.vae.projection import PROJECTIONS

    spaces, names = _split(args.spaces), _split(args.predictors)
    checks = ((spaces, SPACES, "space"), (names, PREDICTORS, "predictor"))
    checks += ((_split(args.vaes), VAE_KINDS, "VAE"), (_split(args.projections), PROJECTIONS, "projection"))
    for given, known, what in checks:
        unknown = [g for g in given if g not in known]
        if unknown or (not given and what in ("space", "predictor")):
            raise ValueError(f"unknown {what} {', '.join(unknown) or '(none)'}; choose from {', '.join(known)}")
    config = ScoringBenchConfig(
        spaces=spaces,
        predictors=names,
        fit_cells=args.fit_cells,
        fit_epochs=args.fit_epochs,
        batch_size=args.batch_size,
        vaes=_split(args.vaes),
        projections=_split(args.projections),
        device=args.device,
        out=args.out,
        command=command_line("bench scoring", args),
    )
    run_scoring(config)
    print(f"wrote {args.out} and {args.out.with_suffix('.md')}")
    return 0
