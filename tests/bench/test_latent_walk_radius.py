"""The latent-walk radius measurement: a larger circle visits more cells, the summary counts
walks that stay on one cell, and the table renders a row per radius."""

import pytest

from archpred.bench.latent_walk_radius import WalkRadiusConfig, render, run_walk_radius, summarise
from archpred.paths import ASSETS_DIR


def test_a_larger_circle_visits_more_cells():
    if not (ASSETS_DIR / "vae" / "svge_nb201.pt").exists():
        pytest.skip("no shipped svge model for nb201")
    config = WalkRadiusConfig(kinds=("svge",), radii=(0.5, 8.0), seeds=(0,), centres=("best",))
    rows = run_walk_radius(config)
    assert [(r["radius"], r["steps"], r["valid"]) for r in rows] == [(0.5, 12, 12), (8.0, 12, rows[1]["valid"])]
    assert rows[0]["distinct"] == 1 < rows[1]["distinct"]
    summary = summarise(rows)
    assert [s["one_cell"] for s in summary] == [1, 0]
    table = render(summary).splitlines()
    assert len(table) == 4 and table[2].startswith("| svge | nb201 | 0.5 | 1 | 12.0 / 12 | 1.0 | 1 | 1 |")
