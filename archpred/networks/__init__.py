"""Real PyTorch networks of the search spaces: build, count, trace, train.

``build_network(arch, space=None, **config)`` returns the benchmark's network for an architecture
of ``nb101``, ``nb201``, ``enas`` or ``macro``; ``config`` overrides the space's config dataclass
fields (``NB101Config``, ``NB201Config``, ``ENASConfig``, ``MacroConfig``), or use the generic
``width``/``depth``. ``expected_params`` / ``expected_flops`` compute the same counts analytically
(verified against built networks in the tests and in ``bench networks``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from torch import nn

from archpred.errors import InvalidOption
from archpred.networks.counting import count_flops, count_params
from archpred.networks.enas import ENASConfig, ENASNetwork
from archpred.networks.macro import MacroConfig, MacroNetwork, macro_params_flops
from archpred.networks.nb101 import NB101Config, NB101Network, nb101_params
from archpred.networks.nb201 import NB201Config, NB201Network, nb201_flops, nb201_params
from archpred.spaces import Architecture, get_space

NETWORKS = {
    "nb101": (NB101Network, NB101Config),
    "nb201": (NB201Network, NB201Config),
    "enas": (ENASNetwork, ENASConfig),
    "macro": (MacroNetwork, MacroConfig),
}
# generic option -> the field it sets in each space's config
WIDTH = {"nb101": "stem_channels", "nb201": "C", "enas": "channels", "macro": "init_channels"}
DEPTH = {"nb101": "cells_per_stack", "nb201": "N"}


def make_config(space: str, **options: Any) -> Any:
    """The space's config dataclass with ``options`` applied (``width``/``depth`` are generic)."""
    if space not in NETWORKS:
        raise InvalidOption(f"no network builder for space {space!r}; choose from {', '.join(NETWORKS)}")
    cls = NETWORKS[space][1]
    options = {k: v for k, v in options.items() if v is not None}
    if "width" in options:
        options[WIDTH[space]] = options.pop("width")
    if "depth" in options:
        if space not in DEPTH:
            raise InvalidOption(f"the depth of a {space} network is fixed by its architecture")
        options[DEPTH[space]] = options.pop("depth")
    fields = {f.name: f.type for f in dataclasses.fields(cls)}
    unknown = sorted(set(options) - set(fields))
    if unknown:
        raise InvalidOption(
            f"unknown {space} network option(s) {', '.join(unknown)}; choose from width, "
            f"{'depth, ' if space in DEPTH else ''}{', '.join(fields)}"
        )
    for key, value in options.items():
        kind = float if key == "bn_momentum" else int
        try:
            options[key] = kind(value)
        except (TypeError, ValueError):
            raise InvalidOption(f"network option {key} must be a number, got {value!r}") from None
        if key != "bn_momentum" and options[key] < 1:
            raise InvalidOption(f"network option {key} must be >= 1, got {value!r}")
    return cls(**options)


def resolve_arch(arch: Any, space: str | None = None) -> tuple[str, Architecture]:
    """(space name, architecture) from an ``Architecture`` or text/dict parsed in ``space``."""
    if isinstance(arch, Architecture):
        name = space or arch.space
        if name != arch.space:
            raise InvalidOption(f"a {arch.space} architecture cannot be built as a {name} network")
        return name, arch
    if space is None:
        raise InvalidOption("give space= to build a network from a cell that is not an Architecture")
    return space, get_space(space).parse(arch)


def build_network(arch: Any, space: str | None = None, **config: Any) -> nn.Module:
    """The network of ``arch``; ``config`` fields default to the benchmark's setting."""
    name, arch = resolve_arch(arch, space)
    cls, _ = NETWORKS[name]
    return cls(arch, make_config(name, **config))


def expected_params(arch: Any, space: str | None = None, **config: Any) -> int:
    """Trainable parameters of ``build_network(arch, space, **config)``, computed analytically
    (nb101, nb201, macro) or, for enas, by building the network on the ``meta`` device."""
    name, arch = resolve_arch(arch, space)
    cfg = make_config(name, **config)
    if name == "nb101":
        return nb101_params(arch, cfg)
    if name == "nb201":
        return nb201_params(arch, cfg)
    if name == "macro":
        return macro_params_flops(arch, cfg)[0]
    return count_params(meta_network(arch, name, cfg))


def expected_flops(arch: Any, space: str | None = None, **config: Any) -> int:
    """Multiply-adds (see ``count_flops``) of the network for one ``input_size`` x ``input_size``
    image: analytic for nb201 and macro, else counted by a forward pass on the ``meta`` device."""
    name, arch = resolve_arch(arch, space)
    cfg = make_config(name, **config)
    if name == "macro":
        return macro_params_flops(arch, cfg)[1]
    if name == "nb201":
        return nb201_flops(arch, cfg)
    net = meta_network(arch, name, cfg)
    return count_flops(net, (cfg.in_channels, cfg.input_size, cfg.input_size))


def meta_network(arch: Architecture, space: str, config: Any) -> nn.Module:
    """The network on the ``meta`` device: shapes and counts without memory or initialisation cost."""
    import torch

    with torch.device("meta"):
        return NETWORKS[space][0](arch, config)


def input_shape(net: nn.Module) -> tuple[int, int, int]:
    """(C, H, W) a built network expects, from its config (default (3, 32, 32))."""
    cfg = getattr(net, "config", None)
    if cfg is None:
        return (3, 32, 32)
    return (cfg.in_channels, cfg.input_size, cfg.input_size)


def __getattr__(name: str) -> Any:  # lazy: graph tracing and training pull in more modules
    if name in ("to_computation_graph", "onnx_to_graph", "laplacian_eigenvalues", "OP_TYPES", "UntraceableNetwork"):
        from archpred.networks import graph

        return getattr(graph, name)
    if name in ("train_classifier", "train_many", "TrainConfig"):
        from archpred.networks import train

        return getattr(train, name)
    if name == "load_dataset":
        from archpred.networks.datasets import load_dataset

        return load_dataset
    if name == "io_features":
        from archpred.networks.io_features import io_features

        return io_features
    raise AttributeError(f"module 'archpred.networks' has no attribute {name!r}")


__all__ = [
    "NETWORKS",
    "ENASConfig",
    "MacroConfig",
    "NB101Config",
    "NB201Config",
    "build_network",
    "count_flops",
    "count_params",
    "expected_flops",
    "expected_params",
    "input_shape",
    "make_config",
    "meta_network",
]
