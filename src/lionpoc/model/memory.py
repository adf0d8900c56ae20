"""Optimizer memory: bytes of state each optimizer keeps, for the head and for the full backbone."""
from __future__ import annotations

import pandas as pd

from lionpoc.data import breeds
from lionpoc.model import backbones
from lionpoc.study.config import OPTIMIZERS
from lionpoc.model.optimizers import make_optimizer, state_bytes


def head_model(n_features: int | None = None):
    """The 15-way head on the pooled features (``n_features``: the default backbone's width when None)."""
    import keras

    n_features = n_features or backbones.spec().feature_dim
    return keras.Sequential([keras.Input((n_features,)), keras.layers.Dense(len(breeds.FOLDERS))], name="head")


def full_model(image_size: int | None = None, backbone: str = backbones.DEFAULT):
    """The backbone (random weights: the shapes are what matter) with the 15-way head, all trainable."""
    import keras

    spec = backbones.spec(backbone)
    base = spec.build(None, image_size or spec.default_size)
    return keras.Sequential([base, keras.layers.Dense(len(breeds.FOLDERS))], name=f"{spec.name}_full")


def optimizer_memory(models: dict | None = None, backbone: str = backbones.DEFAULT,
                     optimizers=OPTIMIZERS) -> pd.DataFrame:
    """One row per (model, optimizer): parameters, weight bytes, state bytes, slots per weight.

    The models are the head on ``backbone``'s features and the whole ``backbone`` (rows ``head`` and the
    backbone's name), unless ``models`` are given. Measured on each optimizer's own variables once built
    on the model's trainable weights.
    """
    spec = backbones.spec(backbone)
    models = models or {"head": head_model(spec.feature_dim), spec.name: full_model(backbone=spec.name)}
    rows = []
    for model_name, model in models.items():
        variables = model.trainable_variables
        n_params = sum(int(v.numpy().size) for v in variables)
        for name in optimizers:
            measured = state_bytes(make_optimizer(name, 1e-3), variables)
            rows.append({"model": model_name, "optimizer": name, "parameters": n_params, **measured})
    return pd.DataFrame(rows)
