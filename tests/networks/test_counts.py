"""Built networks' parameter counts (and Macro FLOPs) against the real benchmark records."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from archpred.networks import (
    build_network,
    count_flops,
    count_params,
    expected_flops,
    expected_params,
    make_config,
    meta_network,
)
from archpred.spaces import get_space
from tests.conftest import shared_file


def _rows(n: int, total: int) -> np.ndarray:
    return np.unique(np.linspace(0, total - 1, n).astype(int))


def test_nb101_params_every_record_analytic_and_sample_built():
    from archpred.data import load_benchmark

    shared_file("nb101", "nb101_20k.json.gz")
    bench = load_benchmark("nb101")
    params = bench["params"]
    analytic = np.array([expected_params(a) for a in bench.archs])
    assert (analytic == params).all()  # all 20,001 records
    cfg = make_config("nb101")
    for i in _rows(60, len(bench)):
        assert count_params(meta_network(bench.archs[i], "nb101", cfg)) == params[i]


def test_nb201_params_sample_built_and_all_analytic():
    from archpred.bench.network_counts import nb201_reference

    space = get_space("nb201")
    keys, ref, agree = nb201_reference()
    assert len(keys) == 15625 and agree.sum() == 15421
    analytic = np.array([expected_params(space.from_index_key(k)) for k in keys])
    assert (analytic == ref).all()
    cfg = make_config("nb201")
    for i in _rows(100, len(keys)):
        assert count_params(meta_network(space.from_index_key(keys[i]), "nb201", cfg)) == ref[i]


def test_nb201_loader_params_agree_where_seeds_agree():
    from archpred.data import load_benchmark

    bench = load_benchmark("nb201")
    analytic = np.array([expected_params(a) for a in bench.archs])
    same = np.isclose(analytic / 1e6, bench["params"], rtol=0, atol=5e-7)
    assert same.sum() >= 15421  # the loader averages seeds; 204 cells have a deviating seed entry


def test_macro_params_and_flops_every_record_analytic_and_sample_built():
    from archpred.data import load_benchmark

    shared_file("macro", "nas-bench-macro_cifar10.json")
    bench = load_benchmark("macro")
    counts = np.array([(expected_params(a), expected_flops(a)) for a in bench.archs])
    assert (counts[:, 0] == bench["params"]).all() and (counts[:, 1] == bench["flops"]).all()
    cfg = make_config("macro")
    for i in _rows(40, len(bench)):
        net = meta_network(bench.archs[i], "macro", cfg)
        assert count_params(net) == bench["params"][i]
        assert count_flops(net, (3, 32, 32)) == bench["flops"][i]


def test_known_counts_on_real_cpu_networks():
    torch.manual_seed(0)
    macro = build_network(get_space("macro").cell("00000000"))
    assert count_params(macro) == 387882 and count_flops(macro, (3, 32, 32)) == 7713280
    nb201 = build_network("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", space="nb201")
    assert count_params(nb201) == 73306
    assert macro(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


@pytest.mark.parametrize("space", ["nb101", "nb201", "enas", "macro"])
def test_config_options_and_forward(space):
    rng = np.random.default_rng(1)
    arch = get_space(space).sample(rng)
    net = build_network(arch, width=8, in_channels=1, input_size=8, num_classes=7)
    out = net(torch.randn(3, 1, 8, 8))
    assert out.shape == (3, 7)
    assert count_params(net) == expected_params(arch, width=8, in_channels=1, input_size=8, num_classes=7)
    assert count_flops(net, (1, 8, 8)) == expected_flops(arch, width=8, in_channels=1, input_size=8, num_classes=7)
    assert count_params(net) < count_params(meta_network(arch, space, make_config(space)))


def test_depth_option():
    arch = get_space("nb101").sample(np.random.default_rng(2))
    shallow = build_network(arch, width=16, depth=1)
    assert len([m for m in shallow.cells if type(m).__name__ == "NB101CellModule"]) == 3
    with pytest.raises(ValueError, match="fixed by its architecture"):
        build_network(get_space("macro").cell("00000000"), depth=3)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"bogus": 1}, "unknown nb201 network option(s) bogus"),
        ({"width": "wide"}, "network option C must be a number"),
        ({"width": 0}, "network option C must be >= 1"),
    ],
)
def test_bad_options(options, message):
    arch = get_space("nb201").sample(np.random.default_rng(0))
    with pytest.raises(ValueError) as err:
        build_network(arch, **options)
    assert message in str(err.value)


def test_arch_space_mismatch_and_text():
    arch = get_space("macro").cell("01201201")
    with pytest.raises(ValueError, match="cannot be built as a nb101 network"):
        build_network(arch, space="nb101")
    with pytest.raises(ValueError, match="give space="):
        build_network("01201201")
    assert count_params(build_network("01201201", space="macro")) == expected_params(arch)


@pytest.mark.slow
def test_every_record_built_on_meta():
    from archpred.bench.network_counts import check_benchmark

    for name, n in [("nb101", 20001), ("nb201", 15625), ("macro", 6561)]:
        result = check_benchmark(name, build=n)
        assert result["params_matched"] == n and result["built_matched"] == n


def test_bench_networks_command(tmp_path, capsys):
    import json

    from archpred.cli import main

    shared_file("macro", "nas-bench-macro_cifar10.json")
    out = tmp_path / "bench.json"
    assert main(["bench", "networks", "--benchmarks", "macro", "--build", "3", "--no-progress", "--out", str(out)]) == 0
    assert "macro: params 6561/6561, flops 6561/6561 matched" in capsys.readouterr().out
    saved = json.loads(out.read_text())["counts"][0]
    assert saved["built_checked"] == saved["built_matched"] == 3
    assert main(["bench", "networks", "--build", "some"]) == 2
    assert "--build must be a number or 'all'" in capsys.readouterr().err


def test_bench_networks_config_checks_names():
    from archpred.bench.networks import NetworksBenchConfig

    with pytest.raises(ValueError, match="unknown benchmark 'enas'"):
        NetworksBenchConfig(benchmarks=("nb101", "enas"))
    assert NetworksBenchConfig(benchmarks=()).build == 200


@pytest.mark.parametrize(
    "config", [{}, {"C": 8, "N": 2, "input_size": 8, "in_channels": 1, "num_classes": 7}, {"C": 4, "input_size": 16}]
)
def test_nb201_analytic_flops_equal_a_counted_forward(config):
    from archpred.networks.nb201 import nb201_flops

    space = get_space("nb201")
    rng = np.random.default_rng(0)
    cfg = make_config("nb201", **config)
    for _ in range(12):
        arch = space.sample(rng)
        counted = count_flops(meta_network(arch, "nb201", cfg), (cfg.in_channels, cfg.input_size, cfg.input_size))
        assert nb201_flops(arch, cfg) == counted == expected_flops(arch, **config)
