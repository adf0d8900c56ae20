"""Optimizer memory: bytes of state each optimizer keeps, for the head and for the full backbone."""
from __future__ import annotations

import pandas as pd

from lionpoc.model import backbones
from lionpoc.model.optimizers import OptimizerSpec, make_optimizer, state_bytes


def head_model(n_features: int | None = None, n_classes: int = 15):
    """The ``n_classes``-way head on the pooled features (``n_features``: the default backbone's width when None)."""
    import keras

    n_features = n_features or backbones.spec().feature_dim
    return keras.Sequential([keras.Input((n_features,)), keras.layers.Dense(n_classes)], name="head")


def full_model(image_size: int | None = None, backbone: str = backbones.DEFAULT, n_classes: int = 15):
    """The backbone (random weights: the shapes are what matter) with the ``n_classes``-way head, all trainable."""
    import keras

    spec = backbones.spec(backbone)
    base = spec.build(None, image_size or spec.default_size)
    return keras.Sequential([base, keras.layers.Dense(n_classes)], name=f"{spec.name}_full")


def optimizer_memory(specs: list[OptimizerSpec], models: dict | None = None,
                     backbone: str = backbones.DEFAULT, n_classes: int = 15) -> pd.DataFrame:
    """One row per (model, optimizer of ``specs``): parameters, weight bytes, state bytes, slots per weight.

    The models are the head on ``backbone``'s features and the whole ``backbone`` (rows ``head`` and the
    backbone's name), unless ``models`` are given. Measured on each optimizer's own variables once built
    on the model's trainable weights.
    """
    base = backbones.spec(backbone)
    models = models or {"head": head_model(base.feature_dim, n_classes),
                        base.name: full_model(backbone=base.name, n_classes=n_classes)}
    rows = []
    for model_name, model in models.items():
        variables = model.trainable_variables
        n_params = sum(int(v.numpy().size) for v in variables)
        for spec in specs:
            measured = state_bytes(make_optimizer(spec, 1e-3), variables)
            rows.append({"model": model_name, "optimizer": spec.name, "parameters": n_params, **measured})
    return pd.DataFrame(rows)
