"""Every file archpred writes goes through here: one atomic write, one versioned header, one
safe read.

``save_artifact(path, format, version, **payload)`` writes a torch file whose header names its
``format`` and ``version``; ``load_artifact(path, format, versions)`` reads it back with
``torch.load(weights_only=True)`` (tensors, numbers, strings and plain containers only) and
turns a missing, corrupt, foreign or too-new file into a one-line ``CheckpointError``.
``atomic_write`` is the primitive both use: a crash mid-write leaves the previous file intact.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from archpred.errors import CheckpointError, InvalidOption


def atomic_write(path: str | Path, write: Callable[[Path], Any]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it over ``path``.

    The rename is atomic on POSIX, so readers see the old file or the new one, never half of one.
    The temporary name keeps ``path``'s suffix (``np.savez`` appends ``.npz`` to any other).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{os.getpid()}{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_text(text))


def save_torch(path: str | Path, state: dict[str, Any]) -> Path:
    """``torch.save`` of a plain dict, atomically (checkpoints of the training loop)."""
    import torch

    return atomic_write(path, lambda tmp: torch.save(state, tmp))


def load_torch(path: str | Path, map_location: Any = "cpu", what: str = "file", mmap: bool = False) -> dict[str, Any]:
    """A torch file of plain containers and tensors (``weights_only=True``), or a one-line error
    that names the file as ``what`` (``"checkpoint"``, ...). ``mmap`` maps tensors instead of
    reading them (cheap when only the header is wanted)."""
    import torch

    try:
        state = torch.load(path, map_location=map_location, weights_only=True, mmap=mmap)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such {what}") from None
    except IsADirectoryError:
        raise CheckpointError(f"{path}: is a folder, not a {what}") from None
    except Exception as err:  # torch raises many types for corrupt or foreign files
        raise CheckpointError(f"{path}: not a readable archpred {what} ({type(err).__name__})") from None
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: not an archpred {what}")
    return state


def save_artifact(path: str | Path, format: str, version: int, **payload: Any) -> Path:
    """Write ``payload`` under a header ``{"format": format, "version": version}``, atomically."""
    if "format" in payload or "version" in payload:
        raise InvalidOption("'format' and 'version' are the header's keys, not payload keys")
    return save_torch(path, {"format": format, "version": int(version), **payload})


def load_artifact(
    path: str | Path, format: str, versions: Iterable[int] = (1,), what: str | None = None
) -> dict[str, Any]:
    """The payload (header included) of a file written by ``save_artifact`` with this ``format``.

    Args:
        versions: the versions this reader understands; any other is a ``CheckpointError``.
        what: how to name the file in messages (default: the format).
    """
    what = what or format
    state = load_torch(path)
    if state.get("format") != format:
        raise CheckpointError(f"{path}: not an archpred {what} file")
    if state.get("version") not in set(versions):
        raise CheckpointError(f"{path}: {what} file version {state.get('version')} is not supported")
    return state
