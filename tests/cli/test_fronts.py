"""The command line as one house: every command module is reachable, every command takes
``--device``/``--threads`` (checked once, in ``main``), one KEY=VALUE parser, choices from the
registries, and ``--help`` without torch."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import re
import subprocess
import sys

import pytest

import archpred.bench
import archpred.cli
from archpred.cli import build_parser, main
from archpred.cli.common import parse_key_values
from archpred.vae import IO_VAE_KINDS, VAE_KINDS
from tests.conftest import ROOT

CELL = '{"adjacency": [[0,1],[0,0]], "ops": ["input","output"]}'


def _help(*words: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "archpred", *words, "--help"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout


def _listed(help_text: str) -> set[str]:
    """Sub-command names in an argparse help (indented 4 spaces under the positional)."""
    return set(re.findall(r"^ {4}(\S+)", help_text, flags=re.MULTILINE))


def _registered(module) -> set[str]:
    scratch = argparse.ArgumentParser().add_subparsers()
    module.register(scratch)
    return set(scratch.choices)


def _command_modules() -> list[str]:
    return [m.name for m in pkgutil.iter_modules(archpred.cli.__path__) if m.name != "common"]


@pytest.mark.parametrize("name", _command_modules())
def test_help_lists_every_command_module(name):
    """A module of archpred/cli that no parser registers would be dead code; misspelt, an ImportError."""
    module = importlib.import_module(f"archpred.cli.{name}")
    names = _registered(module)
    assert names, f"archpred.cli.{name} registers no command"
    listed = _listed(_help()) | _listed(_help("train"))  # ``train KIND`` modules sit one level down
    assert names <= listed, f"{sorted(names - listed)} of archpred.cli.{name} missing from --help"


def test_bench_help_lists_every_bench_harness():
    """Every ``archpred.bench`` module with a ``run_NAME`` harness is ``bench NAME``."""
    listed = _listed(_help("bench"))
    for info in pkgutil.iter_modules(archpred.bench.__path__):
        module = importlib.import_module(f"archpred.bench.{info.name}")
        for attr in dir(module):
            if attr.startswith("run_") and callable(getattr(module, attr)):
                name = attr.removeprefix("run_").replace("_", "-")  # commands use hyphens
                assert name in listed, f"archpred.bench.{info.name}.{attr} has no command"


def _leaves(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
    for action in subs:
        for name, child in action.choices.items():
            yield from _leaves(child, (*path, name))


def test_every_command_takes_device_and_threads():
    leaves = list(_leaves(build_parser()))
    assert len(leaves) >= 12
    for path, parser in leaves:
        flags = {flag for action in parser._actions for flag in action.option_strings}
        assert {"--device", "--threads"} <= flags, " ".join(path)


@pytest.mark.parametrize(
    "argv",
    [
        ["hash", "--space", "nb101", "--cell", CELL],
        ["train", "predictor", "--name", "mlp"],
        ["train", "vae", "--kind", "svge", "--space", "nb201"],
        ["train-arch", "--space", "macro", "--cell", "00000000"],
        ["bench", "predictors", "--protocols", "split"],
        ["bench", "networks", "--benchmarks", "none"],
    ],
)
def test_bad_device_is_one_line_and_exit_2(capsys, argv):
    assert main([*argv, "--device", "tpu"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "unknown device 'tpu'" in err and "Traceback" not in err


def test_bad_device_from_the_shell():
    bad = subprocess.run(
        [sys.executable, "-m", "archpred", "hash", "--space", "nb101", "--cell", CELL, "--device", "cuda:x"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "unknown device" in bad.stderr


def test_threads_are_set_by_main_once(capsys):
    import torch

    before = torch.get_num_threads()
    wanted = 1 if before != 1 else 2  # differs from the current count, so the test sees the change
    try:
        assert main(["hash", "--space", "nb101", "--cell", CELL, "--threads", str(wanted)]) == 0
        assert torch.get_num_threads() == wanted
    finally:
        torch.set_num_threads(before)
    with pytest.raises(SystemExit) as stop:  # argparse: a usage error, exit 2
        main(["hash", "--space", "nb101", "--cell", CELL, "--threads", "0"])
    assert stop.value.code == 2


def test_set_num_threads_only_in_cli_main():
    """Threads are a process setting: ``main`` sets them once; no command or bench harness does."""
    fronts = [*(ROOT / "archpred" / "cli").rglob("*.py"), *(ROOT / "archpred" / "bench").rglob("*.py")]
    callers = sorted(str(path.relative_to(ROOT)) for path in fronts if "set_num_threads(" in path.read_text())
    assert callers == ["archpred/cli/__init__.py"]


def test_help_does_not_import_torch():
    code = "import sys; from archpred.cli import build_parser; build_parser(); print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_key_values():
    assert parse_key_values(["epochs=3", "lr = 1e-3", "hidden=[64, 2]", "loss=mse+rank", "d-node=64"], "--set") == {
        "epochs": 3,
        "lr": 1e-3,
        "hidden": [64, 2],
        "loss": "mse+rank",
        "d_node": 64,
    }
    assert parse_key_values(["width=16", "x=a=b"], "--option", as_json=False) == {"width": "16", "x": "a=b"}
    for bad in ("novalue", "=3"):
        with pytest.raises(ValueError, match="--set must be KEY=VALUE"):
            parse_key_values([bad], "--set")


def test_choices_come_from_the_registries():
    from archpred.predictors import PREDICTORS
    from archpred.vae.model import KINDS

    leaves = dict(_leaves(build_parser()))
    name = next(a for a in leaves[("train", "predictor")]._actions if "--name" in a.option_strings)
    assert list(name.choices) == list(PREDICTORS)
    assert set(VAE_KINDS) | set(IO_VAE_KINDS) == set(KINDS)  # the torch-free copies --help uses
