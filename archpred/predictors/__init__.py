"""Accuracy predictors by name: ``make_predictor(name, seed=..., device="auto", **config)``.

The registry imports each predictor's module inside ``predictor_class`` (explicit imports, so
jump-to-definition works and a misspelt module is an ImportError), and only on first use, so
importing the registry stays cheap.
"""

from __future__ import annotations

from typing import Any

from archpred.errors import InvalidOption
from archpred.predictors.base import Predictor, PredictorConfig

PREDICTORS = (
    "gnn",
    "neural-predictor",
    "random-forest",
    "mlp",
    "lstm",
    "svge",
    "arch2vec",
    "io",
    "io-accuracy",
    "self-training",
)
# The one predictor to use when nothing says otherwise: the best of the cross-validated defaults
# (``bench predictors --protocols select``, reports/predictors.md). The app and searches use it.
RECOMMENDED = "gnn"


def predictor_class(name: str) -> type[Predictor]:
    """The class registered as ``name`` (one of ``PREDICTORS``)."""
    if name == "gnn":
        from archpred.predictors.gnn import GNNPredictor

        return GNNPredictor
    if name == "neural-predictor":
        from archpred.predictors.neural_predictor import NeuralPredictor

        return NeuralPredictor
    if name in ("random-forest", "mlp", "lstm"):
        from archpred.predictors.baselines import LSTMPredictor, MLPPredictor, RandomForestPredictor

        return {"random-forest": RandomForestPredictor, "mlp": MLPPredictor, "lstm": LSTMPredictor}[name]
    if name in ("svge", "arch2vec", "io", "io-accuracy"):
        from archpred.predictors import latent

        classes = (latent.SVGePredictor, latent.Arch2VecPredictor, latent.IOPredictor, latent.IOAccuracyPredictor)
        return {c.name: c for c in classes}[name]
    if name == "self-training":
        from archpred.predictors.self_training import SelfTrainingPredictor

        return SelfTrainingPredictor
    raise InvalidOption(f"unknown predictor {name!r}; choose from {', '.join(PREDICTORS)}")


def make_predictor(name: str, **kwargs: Any) -> Predictor:
    """A new, unfitted predictor; ``kwargs``: ``seed``, ``device``, ``progress`` and config fields."""
    return predictor_class(name)(**kwargs)


def score_space(predictor: Predictor, space: Any = None, **kwargs: Any) -> Any:
    """Every cell of a space scored by ``predictor`` (see ``archpred.predictors.scoring``)."""
    from archpred.predictors.scoring import score_space as score

    return score(predictor, space, **kwargs)


def load_predictor(path: str, device: str = "auto") -> Predictor:
    return Predictor.load(path, device=device)


__all__ = [
    "PREDICTORS",
    "RECOMMENDED",
    "Predictor",
    "PredictorConfig",
    "load_predictor",
    "make_predictor",
    "predictor_class",
    "score_space",
]
