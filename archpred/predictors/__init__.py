"""Accuracy predictors by name: ``make_predictor(name, seed=..., device="auto", **config)``.

The registry maps names to ``module:Class``; a module is imported on first use only.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from archpred.predictors.base import Predictor, PredictorConfig

PREDICTORS = {
    "gnn": "archpred.predictors.gnn:GNNPredictor",
    "neural-predictor": "archpred.predictors.neural_predictor:NeuralPredictor",
    "random-forest": "archpred.predictors.baselines:RandomForestPredictor",
    "mlp": "archpred.predictors.baselines:MLPPredictor",
    "lstm": "archpred.predictors.baselines:LSTMPredictor",
    "svge": "archpred.vae.predictors:SVGePredictor",
    "arch2vec": "archpred.vae.predictors:Arch2VecPredictor",
}


def predictor_class(name: str) -> type[Predictor]:
    if name not in PREDICTORS:
        raise ValueError(f"unknown predictor {name!r}; choose from {', '.join(PREDICTORS)}")
    module, cls = PREDICTORS[name].split(":")
    try:
        return getattr(import_module(module), cls)
    except ModuleNotFoundError as err:
        raise ValueError(f"predictor {name!r} is not available ({err})") from None


def make_predictor(name: str, **kwargs: Any) -> Predictor:
    """A new, unfitted predictor; ``kwargs``: ``seed``, ``device``, ``progress`` and config fields."""
    return predictor_class(name)(**kwargs)


def load_predictor(path: str, device: str = "auto") -> Predictor:
    return Predictor.load(path, device=device)


__all__ = ["PREDICTORS", "Predictor", "PredictorConfig", "load_predictor", "make_predictor", "predictor_class"]
