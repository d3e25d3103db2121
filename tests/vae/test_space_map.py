"""A VAE's embedding of a whole space: chunked, cached, resumable, in enumeration order."""

from __future__ import annotations

import numpy as np
import pytest

from archpred.errors import InvalidOption
from archpred.vae import space_map


class CountingVAE:
    """Stands in for a GraphVAE: embeds a graph as (vertex count, edge count, first type)."""

    def __init__(self, space) -> None:
        self.space, self.calls = space, 0

    def embed_arrays(self, graphs) -> np.ndarray:
        self.calls += 1
        return np.stack([graphs.n, graphs.adj.sum((1, 2)), graphs.types[:, 0]], 1).astype(np.float32)


def test_embed_space_is_chunked_cached_and_resumes(tmp_path) -> None:
    from archpred.spaces import get_space

    space = get_space("nb201")
    vae = CountingVAE(space)
    seen = []
    x = space_map.embed_space(vae, tmp_path, chunk=4_000, progress=lambda d, n: seen.append(d))
    assert x.shape == (15_625, 3) and vae.calls == 4 and seen == [4_000, 8_000, 12_000, 15_625]
    graphs, keys = space_map.space_graphs("nb201")
    assert keys[5] == space.key(space.enumerate()[5]) and np.array_equal(x, vae.embed_arrays(graphs))
    assert [p.name for p in tmp_path.iterdir()] == [space_map.FINAL]  # chunks removed once whole
    again = CountingVAE(space)
    assert np.array_equal(space_map.embed_space(again, tmp_path, chunk=4_000), x) and again.calls == 0


def test_an_interrupted_embedding_resumes_at_the_first_missing_chunk(tmp_path) -> None:
    from archpred.spaces import get_space

    class Interrupted(CountingVAE):
        def embed_arrays(self, graphs):
            if self.calls == 2:
                raise KeyboardInterrupt  # as a kill after two finished chunks
            return super().embed_arrays(graphs)

    space = get_space("nb201")
    with pytest.raises(KeyboardInterrupt):
        space_map.embed_space(Interrupted(space), tmp_path, chunk=4_000)
    assert len(list(tmp_path.glob("part_*.npy"))) == 2
    (tmp_path / sorted(p.name for p in tmp_path.glob("part_*.npy"))[1]).write_bytes(b"torn")  # a broken chunk is redone
    rest = CountingVAE(space)
    x = space_map.embed_space(rest, tmp_path, chunk=4_000)
    assert rest.calls == 3 and x.shape == (15_625, 3)
    assert np.array_equal(x, CountingVAE(space).embed_arrays(space_map.space_graphs("nb201")[0]))


def test_spaces_too_large_to_list_are_refused() -> None:
    with pytest.raises(InvalidOption, match="too large"):
        space_map.space_graphs("enas")
