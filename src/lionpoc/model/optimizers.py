"""Optimizer names to Keras optimizers, and the memory each keeps as state."""
from __future__ import annotations

import numpy as np

from lionpoc.study.config import OPTIMIZERS
from lionpoc.errors import LionpocError


def make_optimizer(name: str, learning_rate, weight_decay=0.0):
    """``adam`` and ``adamw`` from Keras, ``lion`` ours. Adam takes no weight decay (use an L2 penalty).

    ``learning_rate`` may be a float or a callable returning a tensor, and ``weight_decay`` a float or
    an array: per-coordinate values broadcast against the weights, which is how ``grid.py`` trains
    several configurations in one matrix (all three optimizers work coordinate by coordinate).
    """
    import keras

    from lionpoc.model.lion import Lion

    if name not in OPTIMIZERS:
        raise LionpocError(f"unknown optimizer {name!r}; valid optimizers are: {', '.join(OPTIMIZERS)}.")
    decays = np.any(np.asarray(weight_decay) != 0)
    if name == "adam":
        if decays:
            raise LionpocError("adam has no decoupled weight decay; use adamw, or an l2 penalty with adam.")
        return keras.optimizers.Adam(learning_rate=learning_rate)
    if name == "adamw":
        return keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=weight_decay)
    return Lion(learning_rate=learning_rate, weight_decay=weight_decay if decays else None)


def state_bytes(optimizer, variables) -> dict:
    """Bytes of state the optimizer keeps for ``variables``, measured on its own built variables.

    Returns the bytes of the per-weight slots (momentum, velocity, ...), the bytes of the weights
    themselves, and the number of slots per weight.
    """
    optimizer.build(variables)
    weight_bytes = sum(int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize for v in variables)
    own = [v for v in optimizer.variables if len(v.shape) > 0]  # scalars are counters and the lr
    slot_bytes = sum(int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize for v in own)
    return {"weights_bytes": weight_bytes, "state_bytes": slot_bytes,
            "slots_per_weight": slot_bytes / weight_bytes if weight_bytes else 0.0}
