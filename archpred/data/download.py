"""The one place archpred touches the network: an explicit download of the official NB-101 file.

Resumable (HTTP Range), shows progress, writes to ``NAME.part`` and renames only when complete,
so an interrupted download loses nothing and never leaves a truncated file under the real name.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from pathlib import Path

from tqdm.auto import tqdm

from archpred.errors import ArchpredError

DOWNLOADS = {
    "nb101-only108": (
        "https://storage.googleapis.com/nasbench/nasbench_only108.tfrecord",
        "nb101/nasbench_only108.tfrecord",
    ),
    "nb101-full": ("https://storage.googleapis.com/nasbench/nasbench_full.tfrecord", "nb101/nasbench_full.tfrecord"),
}


def download(url: str, dest: Path, progress: bool = True, chunk: int = 1 << 20, timeout: float = 30) -> Path:
    """Fetch ``url`` to ``dest``, resuming a previous partial download."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416 and have:  # nothing left to fetch
            os.replace(part, dest)
            return dest
        raise ArchpredError(f"download of {url} failed: HTTP {err.code}") from None
    except (urllib.error.URLError, OSError) as err:
        raise ArchpredError(f"cannot reach {url} ({getattr(err, 'reason', err)}); is there internet access?") from None
    with response:
        if have and response.status != 206:  # the server ignored Range: start again
            have = 0
        total = response.headers.get("Content-Length")
        total = int(total) + have if total is not None else None
        with (
            open(part, "ab" if have else "wb") as f,
            tqdm(total=total, initial=have, unit="B", unit_scale=True, desc=dest.name, disable=not progress) as bar,
        ):
            while block := response.read(chunk):
                f.write(block)
                bar.update(len(block))
    if total is not None and part.stat().st_size != total:
        raise ArchpredError(f"download of {url} stopped early; run the command again to resume")
    os.replace(part, dest)
    return dest
