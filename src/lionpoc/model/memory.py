"""Optimizer memory: bytes of state each optimizer keeps, for the head and for the full Xception."""
from __future__ import annotations

import pandas as pd

from lionpoc.data import breeds
from lionpoc.model.optimizers import OptimizerSpec, make_optimizer, state_bytes


def head_model(n_features: int = 2048):
    import keras

    return keras.Sequential([keras.Input((n_features,)), keras.layers.Dense(len(breeds.FOLDERS))], name="head")


def full_model(image_size: int = 299):
    """Xception (random weights: the shapes are what matter) with the 15-way head, all trainable."""
    import keras

    base = keras.applications.Xception(include_top=False, weights=None, input_shape=(image_size, image_size, 3),
                                       pooling="avg")
    return keras.Sequential([base, keras.layers.Dense(len(breeds.FOLDERS))], name="xception_full")


def optimizer_memory(specs: list[OptimizerSpec], models: dict | None = None) -> pd.DataFrame:
    """One row per (model, optimizer of ``specs``): parameters, weight bytes, state bytes, slots per weight.

    Measured on each optimizer's own variables once built on the model's trainable weights.
    """
    models = models or {"head": head_model(), "xception": full_model()}
    rows = []
    for model_name, model in models.items():
        variables = model.trainable_variables
        n_params = sum(int(v.numpy().size) for v in variables)
        for spec in specs:
            measured = state_bytes(make_optimizer(spec, 1e-3), variables)
            rows.append({"model": model_name, "optimizer": spec.name, "parameters": n_params, **measured})
    return pd.DataFrame(rows)
