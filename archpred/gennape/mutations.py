"""Mutations of a real network at the level of its computation graph (GENNAPE's CG search).

GENNAPE's search (paper, "Search Algorithm Details") mutates a network "by randomly replacing a
sequence of primitive operations with a sub-graph of new operations, ensuring that previous HWC
channel constraints are met". Here the sequence is a chain of primitive modules in the network's
``torch.fx`` graph (convolutions, batch-norms, ReLUs, pools, identities; every link but the last
has one user), and the sub-graph is one of ``CORES`` built for the chain's input and output
shape (H x W x C, and so its stride), so every mutant is a runnable network by construction and
its CG comes from tracing it, like any other network's. The ReLU a chain starts or ends with
stays where it was (ReLU-conv-BN cells keep that order, conv-BN-ReLU cells theirs).

A mutation is recorded as an ``Edit`` (the chain's node names, the core, and nothing about
sizes), so the same edits replay on another build of the same cell: the CIFAR-10-sized network
the search ranks and a digits-sized one that trains in seconds (``apply_edits``).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from archpred.errors import InvalidOption

# Core sub-graphs: (name, what it needs). "same" cores need C_in == C_out (pools, identity);
# "unit" cores also need stride 1 (identity).
CORES: dict[str, str] = {
    "conv1x1": "any",
    "conv3x3": "any",
    "conv5x5": "any",
    "sep3x3": "any",  # depthwise k x k + BN + ReLU + pointwise 1x1 + BN (MobileNet's block)
    "sep5x5": "any",
    "bottleneck": "any",  # 1x1 down to C/4, 3x3, 1x1 up (ResNet's bottleneck), BN after each
    "avgpool3x3": "same",
    "maxpool3x3": "same",
    "identity": "unit",
}
MAX_CHAIN = 4
_CHAIN_MODULES = (nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.MaxPool2d, nn.AvgPool2d, nn.Identity)
_ANCHORS = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.Identity)  # a chain holds one of these


@dataclass(frozen=True)
class Edit:
    """One mutation: replace the chain of fx nodes ``nodes`` (in data-flow order) by ``core``.

    The new module is ``mut{index}`` in the network: the edit's position in its edit list.
    """

    nodes: tuple[str, ...]
    core: str

    def to_dict(self) -> dict[str, Any]:
        return {"nodes": list(self.nodes), "core": self.core}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Edit:
        return cls(tuple(str(n) for n in d["nodes"]), str(d["core"]))


def traced(net: nn.Module, input_shape: Sequence[int]) -> torch.fx.GraphModule:
    """``net`` as an fx ``GraphModule`` with every node's output shape (``meta["tensor_meta"]``)."""
    from torch.fx.passes.shape_prop import ShapeProp

    gm = net if isinstance(net, torch.fx.GraphModule) else torch.fx.symbolic_trace(net)
    shape = tuple(int(s) for s in input_shape)
    ref = next(gm.parameters(), None)
    was_training = gm.training
    gm.eval()
    with torch.no_grad():
        ShapeProp(gm).propagate(torch.zeros((1, *shape), device=None if ref is None else ref.device))
    gm.train(was_training)
    return gm


def chains(gm: torch.fx.GraphModule, max_len: int = MAX_CHAIN) -> list[tuple[str, ...]]:
    """Every replaceable chain of up to ``max_len`` primitive modules (node names in order).

    A chain is a path of ``call_module`` nodes of ``_CHAIN_MODULES`` types, each with one tensor
    input, each but the last used by the next link only; it holds at least one conv, pool or
    identity, and its input and output are 4-D tensors whose H and W shrink by one whole stride.
    """
    modules = dict(gm.named_modules())
    nodes = [n for n in gm.graph.nodes if _linkable(n, modules)]
    linkable = {n.name for n in nodes}
    out: list[tuple[str, ...]] = []
    for start in nodes:
        chain = [start]
        while True:
            if _has_anchor(chain, modules) and _stride(chain) is not None:
                out.append(tuple(n.name for n in chain))
            last = chain[-1]
            users = list(last.users)
            if len(chain) >= max_len or len(users) != 1 or users[0].name not in linkable:
                break
            chain.append(users[0])
    return out


def _linkable(node: Any, modules: dict[str, nn.Module]) -> bool:
    if node.op != "call_module" or not isinstance(modules.get(node.target), _CHAIN_MODULES):
        return False
    m = modules[node.target]
    if isinstance(m, nn.Conv2d) and (m.groups not in (1, m.in_channels) or m.dilation != (1, 1)):
        return False
    return len(node.all_input_nodes) == 1 and _shape(node) is not None and len(_shape(node)) == 4


def _has_anchor(chain: list[Any], modules: dict[str, nn.Module]) -> bool:
    return any(isinstance(modules[n.target], _ANCHORS) for n in chain)


def _shape(node: Any) -> tuple[int, ...] | None:
    meta = node.meta.get("tensor_meta")
    return None if meta is None or not hasattr(meta, "shape") else tuple(int(s) for s in meta.shape)


def _stride(chain: list[Any]) -> int | None:
    """The chain's whole stride (1, 2, ...), or ``None`` when its shapes do not shrink evenly."""
    src, dst = _shape(chain[0].all_input_nodes[0]), _shape(chain[-1])
    if src is None or dst is None or len(src) != 4 or len(dst) != 4:
        return None
    (_, _, h, w), (_, _, oh, ow) = src, dst
    if oh < 1 or ow < 1 or h % oh or w % ow or h // oh != w // ow:
        return None
    return h // oh


def allowed_cores(gm: torch.fx.GraphModule, chain: Sequence[str]) -> list[str]:
    """The cores that fit ``chain``'s shapes (pools and identity keep C; identity keeps H, W)."""
    nodes = _nodes(gm, chain)
    c_in, c_out, stride = _io(nodes)
    ok = []
    for core, need in CORES.items():
        if need == "same" and c_in != c_out:
            continue
        if need == "unit" and (c_in != c_out or stride != 1):
            continue
        ok.append(core)
    return ok


def _nodes(gm: torch.fx.GraphModule, names: Sequence[str]) -> list[Any]:
    by_name = {n.name: n for n in gm.graph.nodes}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise InvalidOption(f"the network has no node {missing[0]!r} (edits belong to another cell)")
    return [by_name[n] for n in names]


def _io(nodes: list[Any]) -> tuple[int, int, int]:
    stride = _stride(nodes)
    if stride is None:
        raise InvalidOption(f"nodes {[n.name for n in nodes]} do not form a chain with a whole stride")
    return _shape(nodes[0].all_input_nodes[0])[1], _shape(nodes[-1])[1], stride


def core_module(core: str, c_in: int, c_out: int, stride: int) -> nn.Sequential:
    """The sub-graph ``core`` from ``c_in`` to ``c_out`` channels at ``stride``."""
    if core not in CORES:
        raise InvalidOption(f"unknown core {core!r}; choose from {', '.join(CORES)}")
    if core.startswith("conv"):
        k = int(core[4])
        return nn.Sequential(nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False), nn.BatchNorm2d(c_out))
    if core.startswith("sep"):
        k = int(core[3])
        return nn.Sequential(
            nn.Conv2d(c_in, c_in, k, stride, k // 2, groups=c_in, bias=False),
            nn.BatchNorm2d(c_in),
            nn.ReLU(),
            nn.Conv2d(c_in, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out),
        )
    if core == "bottleneck":
        mid = max(1, c_out // 4)
        return nn.Sequential(
            nn.Conv2d(c_in, mid, 1, bias=False),
            nn.BatchNorm2d(mid),
            nn.ReLU(),
            nn.Conv2d(mid, mid, 3, stride, 1, bias=False),
            nn.BatchNorm2d(mid),
            nn.ReLU(),
            nn.Conv2d(mid, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out),
        )
    if core.endswith("pool3x3"):
        pool = (
            nn.AvgPool2d(3, stride, 1, count_include_pad=False)
            if core.startswith("avg")
            else nn.MaxPool2d(3, stride, 1)
        )
        return nn.Sequential(pool)
    return nn.Sequential(nn.Identity())


def apply_edit(gm: torch.fx.GraphModule, edit: Edit, index: int, input_shape: Sequence[int]) -> torch.fx.GraphModule:
    """A new network: ``gm`` (traced with shapes) with ``edit`` done as module ``mut{index}``."""
    if edit.core not in CORES:
        raise InvalidOption(f"unknown core {edit.core!r}; choose from {', '.join(CORES)}")
    child = copy.deepcopy(gm)
    nodes = _nodes(child, edit.nodes)
    if [n.name for n in nodes] not in [list(c) for c in chains(child, max_len=len(nodes))]:
        raise InvalidOption(f"nodes {list(edit.nodes)} are not a replaceable chain of this network")
    if edit.core not in allowed_cores(child, edit.nodes):
        raise InvalidOption(f"core {edit.core} does not fit the shapes of nodes {list(edit.nodes)}")
    c_in, c_out, stride = _io(nodes)
    modules = dict(child.named_modules())
    parts: list[nn.Module] = []
    if isinstance(modules[nodes[0].target], nn.ReLU):  # keep the chain's own activation order
        parts.append(nn.ReLU())
    parts.extend(core_module(edit.core, c_in, c_out, stride))
    if len(nodes) > 1 and isinstance(modules[nodes[-1].target], nn.ReLU):
        parts.append(nn.ReLU())
    name = f"mut{index}"
    child.add_submodule(name, nn.Sequential(*parts).to(_device(gm)))
    source = nodes[0].all_input_nodes[0]
    with child.graph.inserting_after(nodes[-1]):
        new = child.graph.call_module(name, (source,))
    nodes[-1].replace_all_uses_with(new)
    for node in reversed(nodes):
        child.graph.erase_node(node)
    child.delete_all_unused_submodules()
    child.recompile()
    return traced(child, input_shape)


def _device(gm: nn.Module) -> torch.device:
    ref = next(gm.parameters(), None)
    return torch.device("cpu") if ref is None else ref.device


def apply_edits(net: nn.Module, edits: Sequence[Edit], input_shape: Sequence[int]) -> torch.fx.GraphModule:
    """A new network: ``net`` with ``edits`` done in order (``edits[i]`` becomes module ``mut{i}``)."""
    gm = traced(copy.deepcopy(net), input_shape)
    for i, edit in enumerate(edits):
        gm = apply_edit(gm, edit, i, input_shape)
    return gm


def random_edit(gm: torch.fx.GraphModule, rng: np.random.Generator) -> Edit:
    """One random mutation of ``gm``: a random chain and a random core that fits it and is not
    the chain's own single op (a 3x3 conv-BN is not 'replaced' by a 3x3 conv-BN)."""
    options = chains(gm)
    if not options:
        raise InvalidOption("the network has no chain of primitive modules to mutate")
    for _ in range(32):
        chain = options[int(rng.integers(len(options)))]
        cores = [c for c in allowed_cores(gm, chain) if c != _own_core(gm, chain)]
        if cores:
            return Edit(chain, cores[int(rng.integers(len(cores)))])
    raise InvalidOption("no mutation fits this network's chains")


def _own_core(gm: torch.fx.GraphModule, chain: Sequence[str]) -> str | None:
    """The core a chain already is (its ReLUs aside), if it is one."""
    modules = dict(gm.named_modules())
    core = [modules[n.target] for n in _nodes(gm, chain) if not isinstance(modules[n.target], nn.ReLU)]
    if len(core) == 1 and isinstance(core[0], nn.Identity):
        return "identity"
    if len(core) == 1 and isinstance(core[0], (nn.MaxPool2d, nn.AvgPool2d)) and core[0].kernel_size in (3, (3, 3)):
        return ("max" if isinstance(core[0], nn.MaxPool2d) else "avg") + "pool3x3"
    if (
        len(core) == 2
        and isinstance(core[0], nn.Conv2d)
        and core[0].groups == 1
        and isinstance(core[1], nn.BatchNorm2d)
    ):
        k = core[0].kernel_size[0]
        return f"conv{k}x{k}" if f"conv{k}x{k}" in CORES else None
    return None
