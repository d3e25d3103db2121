"""GENNAPE (Mills et al., AAAI 2023): the accuracy of any network from its computation graph.

``load_gennape()`` loads the model pretrained on NB-101 that ships in ``assets/gennape/``
(``load_gennape(path)`` one you trained with ``python -m archpred train gennape``);
``g.predict(items)`` takes cells of any of our spaces, ``torch.nn.Module`` objects (with
``input_shape=``), ONNX files (paths or bytes) and computation graphs, mixed. ``g.embed``,
``g.memberships`` and ``g.fine_tune`` give the CL embeddings, the fuzzy-cluster memberships and a
fine-tuned copy. Rooms: ``graphs`` (CGs in flat arrays), ``families`` (benchmark families, cached),
``inputs`` (any network -> CGs, validated), ``encoder`` + ``contrastive`` (the CL encoder),
``transform`` (Eq. 5), ``fcm`` (scikit-fuzzy), ``heads`` (MLP ensembles, pairwise classifiers),
``kgnn`` (the end-to-end baseline), ``members`` + ``model`` (the ensemble), ``train`` (pretraining).
"""

from __future__ import annotations

from archpred.gennape.model import FineTuneSettings, Gennape, load_gennape

__all__ = ["FineTuneSettings", "Gennape", "load_gennape"]
