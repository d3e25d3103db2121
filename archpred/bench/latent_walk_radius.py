"""How large a latent-walk circle must be to visit more than one cell.

For each VAE, centre cell, radius and plane seed, the circle of ``steps`` points through the
centre's latent (``GraphVAE.circle``, as the Latent walk page draws it) is decoded; a walk
counts its valid decodes and the distinct cells among them. The summary per radius chose the
page's default radius (``archpred.app.latent.DEFAULT_RADIUS``).

Run: ``python -m archpred.bench.latent_walk_radius`` (prints the Markdown table; about a minute
on one CPU thread for the default configuration).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from archpred.errors import InvalidOption


@dataclasses.dataclass(frozen=True)
class WalkRadiusConfig:
    """What ``run_walk_radius`` measures.

    Args:
        kinds: the VAEs (``svge``, ``arch2vec``); spaces: the benchmarks whose cells are centres.
        radii: circle radii in latent units; steps: points per circle (the page's default 12).
        seeds: plane seeds (the page's "Plane seed"); centres: ``best`` and/or ``median`` cell
        of the benchmark (the page's default walk ends); device: auto, cpu, cuda or cuda:N.
    """

    kinds: tuple[str, ...] = ("svge", "arch2vec")
    spaces: tuple[str, ...] = ("nb201",)
    radii: tuple[float, ...] = (0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0)
    steps: int = 12
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    centres: tuple[str, ...] = ("best", "median")
    device: str = "cpu"


def centre_row(accuracy: np.ndarray, centre: str) -> int:
    """The table row of the walk's default centre: the best cell or the median one (the rule of
    the Latent walk page's default ends)."""
    if centre == "best":
        return int(np.nanargmax(accuracy))
    if centre == "median":
        return int(np.argsort(accuracy)[len(accuracy) // 2])
    raise InvalidOption(f"unknown centre {centre!r}; choose best or median")


def circle_counts(vae: Any, centre: Any, radius: float, steps: int, seed: int) -> tuple[int, int]:
    """``(valid decodes, distinct valid cells)`` of one circle walk around ``centre``."""
    decoded = vae.circle(centre, steps, np.random.default_rng(seed), radius=radius)
    valid = [a for a in decoded if a is not None]
    return len(valid), len({vae.space.key(a) for a in valid})


def run_walk_radius(config: WalkRadiusConfig) -> list[dict[str, Any]]:
    """One row per (kind, space, centre, radius, seed): valid decodes and distinct cells."""
    from archpred.data import load_benchmark
    from archpred.vae import load_vae

    rows = []
    for space in config.spaces:
        bench = load_benchmark(space)
        for kind in config.kinds:
            vae = load_vae(kind, bench.space.name, device=config.device)
            for centre in config.centres:
                arch = bench.archs[centre_row(bench.accuracy, centre)]
                for radius in config.radii:
                    for seed in config.seeds:
                        valid, distinct = circle_counts(vae, arch, radius, config.steps, seed)
                        rows.append(
                            {
                                "kind": kind,
                                "space": space,
                                "centre": centre,
                                "radius": float(radius),
                                "seed": seed,
                                "steps": config.steps,
                                "valid": valid,
                                "distinct": distinct,
                            }
                        )
    return rows


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (kind, space, radius), over centres and seeds: mean valid decodes, mean and minimum
    distinct cells, and how many walks stayed on one cell."""
    groups: dict[tuple[str, str, float], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["kind"], row["space"], row["radius"]), []).append(row)
    out = []
    for (kind, space, radius), walks in groups.items():
        distinct = np.array([w["distinct"] for w in walks])
        out.append(
            {
                "kind": kind,
                "space": space,
                "radius": radius,
                "walks": len(walks),
                "steps": walks[0]["steps"],
                "valid": float(np.mean([w["valid"] for w in walks])),
                "distinct": float(distinct.mean()),
                "min_distinct": int(distinct.min()),
                "one_cell": int((distinct <= 1).sum()),
            }
        )
    return out


def render(summary: list[dict[str, Any]]) -> str:
    """The summary as a Markdown table."""
    lines = [
        "| VAE | space | radius | walks | mean valid / steps | mean distinct cells | min distinct | walks on one cell |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in summary:
        lines.append(
            f"| {s['kind']} | {s['space']} | {s['radius']:g} | {s['walks']} | {s['valid']:.1f} / {s['steps']} "
            f"| {s['distinct']:.1f} | {s['min_distinct']} | {s['one_cell']} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(summarise(run_walk_radius(WalkRadiusConfig()))))
