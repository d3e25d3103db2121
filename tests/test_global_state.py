"""No library code seeds a global RNG or sets torch's thread count: those belong to the caller.

The CLI (``archpred/cli``) sets threads once from ``--threads``; two sanctioned places remain in
the library, each isolating what it does: ``training.seeded`` (inside ``fork_rng``) and the
initialiser of ``train_many``'s own worker processes.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GLOBAL_CALLS = {
    ("torch", "manual_seed"),
    ("torch.cuda", "manual_seed"),
    ("torch.cuda", "manual_seed_all"),
    ("torch", "seed"),
    ("torch", "set_num_threads"),
    ("torch", "set_num_interop_threads"),
    ("np.random", "seed"),
    ("numpy.random", "seed"),
    ("random", "seed"),
}
ALLOWED = {("archpred/training.py", "seeded"), ("archpred/networks/train.py", "_one_thread_worker")}


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def global_state_calls(source: str) -> list[tuple[str, int, str]]:
    """(enclosing function, line, call) of every call that seeds a global RNG or sets threads."""
    found = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else function
            if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute):
                owner = _dotted(child.func.value)
                if (owner, child.func.attr) in GLOBAL_CALLS:
                    found.append((function, child.lineno, f"{owner}.{child.func.attr}"))
            visit(child, name)

    visit(ast.parse(source), "<module>")
    return found


def library_files() -> list[Path]:
    files = sorted((ROOT / "archpred").rglob("*.py")) + sorted((ROOT / "pages").glob("*.py")) + [ROOT / "app.py"]
    return [f for f in files if "cli" not in f.relative_to(ROOT).parts[:2]]


def test_the_scan_sees_the_package():
    rooms = {f.relative_to(ROOT).parts[1] for f in library_files() if f.parts[-2] != ROOT.name}
    assert {"training.py", "predictors", "vae", "networks", "app", "bench"} <= rooms


def test_the_scanner_finds_what_it_looks_for():
    source = "import torch\nimport numpy as np\ndef f():\n    torch.manual_seed(0)\nnp.random.seed(1)\n"
    assert [(f, call) for f, _, call in global_state_calls(source)] == [
        ("f", "torch.manual_seed"),
        ("<module>", "np.random.seed"),
    ]
    assert global_state_calls("import torch\ng = torch.Generator().manual_seed(3)\n") == []


@pytest.mark.parametrize("path", library_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_global_seeding_or_threads_outside_the_cli(path):
    rel = str(path.relative_to(ROOT))
    calls = [c for c in global_state_calls(path.read_text()) if (rel, c[0]) not in ALLOWED]
    assert not calls, f"{rel} changes global state: {calls}"
