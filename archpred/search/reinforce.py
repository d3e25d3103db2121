"""REINFORCE over a VAE's embeddings: arch2vec's reinforcement-learning search.

Yan, Zheng, Ao, Zeng and Zhang, "Does unsupervised architecture representation learning help
neural architecture search?" (NeurIPS 2020), ``search_methods/reinforce*.py`` of their code:

- the state is the embedding of the cell just chosen (the first: a random cell, evaluated
  here as the ``n_initial`` random ``init`` queries);
- the policy is an ``LSTMCell`` (hidden 128 there, 32 here: see ``hidden``) and a linear layer from its hidden state to the
  mean of a Gaussian over the embedding space; an action is a draw from it;
- the cell proposed is the nearest (Euclidean) evaluable cell to the action not yet proposed
  in the run, and its embedding becomes the next state;
- the reward is the validation accuracy; after every episode of ``batch`` steps (16, as theirs)
  the policy takes one Adam step (learning rate 0.01) on the mean of
  ``-log pi(action) * (reward - baseline)``, and the LSTM's memory starts again from zero.

Where this differs from their script, and why: their baseline is a constant (0.95 on NB-101,
0.4 on NB-201, and an unused ``--EMA_momentum 0.95`` flag); here it is the moving average the
paper describes, ``b <- 0.95 b + 0.05 r`` after each reward, starting at the first reward.
Embeddings are standardised per coordinate over the evaluable cells and the action's standard
deviation ``sigma`` is in those units (theirs is 1 in the raw units of their encoder; our
arch2vec's coordinates have standard deviations of 0.03 to 0.2, so a raw 1 would make every
action a random jump). Their discounted returns are computed and then discarded (the loss
uses the raw rewards); so here, without discount.

The policy is learned step by step, so unlike ``latent-bo`` its parameters and Adam's moments
are state (JSON lists of floats, exact for float32), with the episode so far and the LSTM's
memory: a resumed run continues exactly. The action noise is drawn from the run's numpy
generator, the policy's initial weights inside ``training.seeded`` with a seed drawn from it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from archpred.errors import InvalidOption
from archpred.search.base import Candidates, Evaluation, Searcher
from archpred.search.latent import LatentTable, check_vae_kind, latent_table
from archpred.search.options import positive_int
from archpred.spaces import Architecture, SearchSpace
from archpred.training import seeded


def _positive_float(name: str, value: Any, below_one: bool = False) -> float:
    """``value`` as a finite float > 0 (and < 1 where ``below_one``), or an ``InvalidOption``."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value) and value > 0
    if not ok or (below_one and value >= 1):
        rule = "between 0 and 1 (exclusive)" if below_one else "a number > 0"
        raise InvalidOption(f"{name} must be {rule}, got {value!r}")
    return float(value)


class Reinforce(Searcher):
    """An LSTM policy of Gaussian actions in embedding space, nearest new cell, REINFORCE.

    Args:
        vae: ``arch2vec`` (default, theirs: its 16-d graph embedding, the mean of the node
            latents), ``svge`` (its 56-d latent), or on NB-101 ``io`` / ``io-accuracy`` (arch2vec
            trained with the IO dataset's outputs or accuracies, ``archpred.vae.io``: the input-output
            paper's REINFORCE comparison).
        n_initial: uniformly random cells first; the last is the policy's first state.
        batch: steps per episode (one policy update each).
        lr: Adam's learning rate.
        sigma: the action's standard deviation, in standard deviations of the embeddings.
        momentum: of the moving-average reward baseline.
        hidden: the LSTM's hidden size (theirs: 128). 32 by default because the policy and
            Adam's moments are committed with every evaluation: at 128 that is 230,000 floats
            (4.7 MB of JSON) per evaluation, and a 100-query NB-201 run with a run store took
            91 s instead of 0.8 s without one (10.7 MB store); at 32, 8 s and 1.1 MB, and the
            same quality (mean test accuracy of the best-by-val over seeds 0-9 at 100
            queries: 93.74 % at 32, 93.88 % at 128, noise at 10 seeds).
        max_tries: unused here (the base's mutation budget), kept for a uniform signature.
    """

    name = "reinforce"

    def __init__(
        self,
        space: SearchSpace,
        rng: np.random.Generator,
        candidates: Candidates | None = None,
        vae: str = "arch2vec",
        n_initial: int = 1,
        batch: int = 16,
        lr: float = 0.01,
        sigma: float = 1.0,
        momentum: float = 0.95,
        hidden: int = 32,
        max_tries: int = 100,
    ) -> None:
        super().__init__(space, rng, candidates, max_tries)
        self.vae = check_vae_kind(vae)
        self.n_initial = positive_int("n_initial", n_initial)
        self.batch = positive_int("batch", batch)
        self.lr = _positive_float("lr", lr)
        self.sigma = _positive_float("sigma", sigma)
        self.momentum = _positive_float("momentum", momentum, below_one=True)
        self.hidden = positive_int("hidden", hidden)
        self._init_asked = 0
        self._state_row: int | None = None  # the table row of the cell chosen last
        self._memory: list[list[float]] | None = None  # the LSTM's (h, c) within the episode
        self._episodes: list[list[dict[str, Any]]] = []  # steps: input row, action, key, advantage
        self._baseline: float | None = None
        self._policy_state: dict[str, Any] | None = None  # parameters and Adam's, once built
        self._table: LatentTable | None = None
        self._net: tuple[_Policy, torch.optim.Adam] | None = None  # rebuilt from _policy_state

    @property
    def table(self) -> LatentTable:
        """The evaluable cells' standardised embeddings (built on first use)."""
        if self._table is None:
            self._table = latent_table(self.vae, "embedding", self.space, self.candidates).standardised
        return self._table

    # -- proposals ------------------------------------------------------------------------
    def _propose(self) -> tuple[Architecture, str, dict[str, Any]]:
        if self._init_asked < self.n_initial:
            self._init_asked += 1
            arch, key = self._random()
            if key in self.table.index:
                self._state_row = self.table.index[key]
            return arch, key, {"phase": "init"}
        if self._state_row is None:  # only where every init cell lies outside the table
            self._state_row = int(self.rng.integers(len(self.table)))
        action = self._act()
        near = self.table.nearest_unseen(action, self._seen)
        if near is None:  # every evaluable cell proposed: the base says so
            return (*self._random_from_rest(), {"phase": "policy"})
        row, dist = near
        key = self.table.keys[row]
        self._episodes[-1].append({"input": self._state_row, "action": action.tolist(), "key": key, "advantage": None})
        self._state_row = row
        return self.table.archs[row], key, {"phase": "policy", "distance": round(dist, 6)}

    def _act(self) -> np.ndarray:
        """Advance the LSTM from the current state and draw an action around its mean."""
        policy, _ = self._policy()
        if not self._episodes or len(self._episodes[-1]) >= self.batch:
            self._episodes.append([])
            self._memory = None
        x = torch.as_tensor(self.table.z[self._state_row], dtype=torch.float32)[None]
        memory = None if self._memory is None else tuple(torch.tensor([m], dtype=torch.float32) for m in self._memory)
        with torch.no_grad():
            mean, (h, c) = policy(x, memory)
        self._memory = [h[0].tolist(), c[0].tolist()]
        noise = self.rng.standard_normal(self.table.dim)
        return mean[0].double().numpy() + self.sigma * noise

    # -- learning -------------------------------------------------------------------------
    def _observe(self, evaluation: Evaluation, info: dict[str, Any]) -> None:
        reward = float(evaluation.val_acc)
        if self._baseline is None:
            self._baseline = reward
        if info.get("phase") != "policy":
            return
        for step in (s for episode in self._episodes for s in episode):
            if step["key"] == evaluation.key:
                step["advantage"] = reward - self._baseline
        self._baseline = self.momentum * self._baseline + (1 - self.momentum) * reward
        while self._episodes and self._finished(self._episodes[0]):
            self._update(self._episodes.pop(0))

    def _finished(self, episode: list[dict[str, Any]]) -> bool:
        return len(episode) >= self.batch and all(s["advantage"] is not None for s in episode)

    def _update(self, episode: list[dict[str, Any]]) -> None:
        """One Adam step on the episode's REINFORCE loss (its actions replayed through the LSTM
        from zero memory: the same log-probabilities as when they were drawn)."""
        policy, optimiser = self._policy()
        x = torch.as_tensor(self.table.z[[s["input"] for s in episode]], dtype=torch.float32)
        actions = torch.tensor([s["action"] for s in episode], dtype=torch.float32)
        advantage = torch.tensor([s["advantage"] for s in episode], dtype=torch.float32)
        memory, means = None, []
        for t in range(len(episode)):
            mean, memory = policy(x[t : t + 1], memory)
            means.append(mean[0])
        log_prob = -((actions - torch.stack(means)) ** 2).sum(1) / (2 * self.sigma**2)
        loss = -(log_prob * advantage).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        self._policy_state = _dump(policy, optimiser)

    def _policy(self) -> tuple[_Policy, torch.optim.Adam]:
        """The policy and its Adam, built (seeded from the run's generator) on first use."""
        if self._net is None:
            seed = int(self.rng.integers(2**31 - 1)) if self._policy_state is None else 0
            with seeded(seed):
                policy = _Policy(self.table.dim, self.hidden)
            optimiser = torch.optim.Adam(policy.parameters(), lr=self.lr)
            if self._policy_state is not None:
                _restore(policy, optimiser, self._policy_state)
            self._net = (policy, optimiser)
            self._policy_state = _dump(policy, optimiser)
        return self._net

    # -- state ----------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return {
            "init_asked": self._init_asked,
            "state_row": self._state_row,
            "memory": self._memory,
            "episodes": [[dict(s) for s in episode] for episode in self._episodes],  # a copy: steps change
            "baseline": self._baseline,
            "policy": self._policy_state,
        }

    def _load_state(self, state: dict[str, Any]) -> None:
        self._init_asked = int(state["init_asked"])
        self._state_row = None if state["state_row"] is None else int(state["state_row"])
        self._memory = state["memory"]
        self._episodes = [[dict(s) for s in episode] for episode in state["episodes"]]
        self._baseline = None if state["baseline"] is None else float(state["baseline"])
        self._policy_state = state["policy"]
        self._net = None


class _Policy(nn.Module):
    """arch2vec's ``Policy_LSTM``: the mean of the next action from the current state.

    Args:
        dim: the embedding's size (state and action).
        hidden: the LSTM cell's hidden size.

    Shapes:
        x: (B, dim); memory: None or ((B, hidden), (B, hidden)) -> mean (B, dim), memory.
    """

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.lstm = nn.LSTMCell(dim, hidden)
        self.fc = nn.Linear(hidden, dim)

    def reset_parameters(self) -> None:
        self.lstm.reset_parameters()
        self.fc.reset_parameters()

    def forward(
        self, x: torch.Tensor, memory: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        h, c = self.lstm(x, memory)
        return self.fc(h), (h, c)


def _dump(policy: _Policy, optimiser: torch.optim.Adam) -> dict[str, Any]:
    """The policy's parameters and Adam's moments as JSON lists (float32 values are exact)."""
    params = {name: p.detach().flatten().tolist() for name, p in policy.named_parameters()}
    adam = {}
    for name, p in policy.named_parameters():
        st = optimiser.state.get(p)
        if st:
            adam[name] = {
                "step": float(st["step"]),
                "exp_avg": st["exp_avg"].flatten().tolist(),
                "exp_avg_sq": st["exp_avg_sq"].flatten().tolist(),
            }
    return {"params": params, "adam": adam}


def _restore(policy: _Policy, optimiser: torch.optim.Adam, state: dict[str, Any]) -> None:
    """Put ``_dump``'s output back into a freshly built policy and its Adam."""
    try:
        with torch.no_grad():
            for name, p in policy.named_parameters():
                p.copy_(torch.tensor(state["params"][name], dtype=p.dtype).view_as(p))
        for name, p in policy.named_parameters():
            st = state["adam"].get(name)
            if st:
                optimiser.state[p] = {
                    "step": torch.tensor(st["step"], dtype=torch.float32),
                    "exp_avg": torch.tensor(st["exp_avg"], dtype=p.dtype).view_as(p),
                    "exp_avg_sq": torch.tensor(st["exp_avg_sq"], dtype=p.dtype).view_as(p),
                }
    except (KeyError, RuntimeError, TypeError, ValueError) as err:
        raise InvalidOption(f"the saved reinforce policy does not fit this searcher ({err})") from None
