"""Fine-tuning where the optimizer can matter: the backbone's last layers and the head, on cached activations.

Training the head alone is a convex problem (a softmax regression on fixed features). The last layers of
the backbone are not: each registry entry says which (``backbones.spec(name).fine_tune_layers``). Xception:
block 14, two separable convolutions with batch normalisation (4.74 M trainable weights), on block 13's
output; MobileNetV2: block 16 and the final 1 x 1 convolution (0.89 M weights), on block 15's output. The one
pass already stored the activations where they start (``features.py``), so they train with the head on them
directly: the layers before never run again. The usual two-stage recipe: these layers start from the base's
weights and the head from the one the grid chose for this optimizer and seed; batch normalisation runs in
inference mode, its statistics frozen (the Keras transfer-learning guide's advice).

Each optimizer gets the same small budget: 3 learning rates around a tenth of its chosen head's
(x 1/3, 1, 3), the head's decay (AdamW and Lion) or L2 penalty (Adam) kept, so that Lion keeps its
smaller learning rate and larger decay, early stopping on the validation loss, at most
``fine_tune_epochs`` epochs.
"""
from __future__ import annotations

import resource
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lionpoc.model import backbones
from lionpoc.model.optimizers import DEFAULT_FINE_TUNE, OptimizerSpec, make_optimizer, state_bytes

LR_FACTORS = tuple(DEFAULT_FINE_TUNE["learning_rate_factors"])  # a tenth of the head's rate, x 1/3 and x 3 around it
BATCH_SIZE = 32


@dataclass
class FineTuned:
    """The chosen fine-tuning of one seed: its configuration, curves, scores and costs."""

    config: dict
    model: object
    history: pd.DataFrame            # epoch, loss, accuracy, val_loss, val_accuracy, seconds
    tuning: pd.DataFrame             # every learning rate tried, with its validation scores
    best_epoch: int
    val_accuracy_before: float
    trainable_parameters: int
    state_bytes: int
    peak_memory_bytes: int
    estimated_seconds: float          # printed before training: set-up so far + measured epoch x the budget
    seconds: float = 0.0              # wall time of the whole fine-tuning of the seed


def grid(head_config: dict, spec: OptimizerSpec | None = None) -> list[dict]:
    """The fine-tuning configurations derived from the chosen head's configuration: the optimizer's
    learning-rate factors (its parameter file's ``fine_tune:``; by default 1/30, 1/10 and 3/10), its decay kept."""
    factors = spec.fine_tune["learning_rate_factors"] if spec is not None else LR_FACTORS
    decay = {k: v for k, v in head_config.items() if k != "learning_rate"}
    return [{"learning_rate": head_config["learning_rate"] * f, **decay} for f in factors]


def probe_decay(spec: OptimizerSpec) -> float:
    """A decay to build the optimizer with while measuring (the cost, not the result, matters)."""
    return 0.1 if spec.decay == "decoupled" else 0.0


def build(base, head, seed: int = 0, backbone: str = backbones.DEFAULT):
    """The retrained layers of ``base`` (its own layers, so its own weights) followed by ``head``, on the
    cached activations (Xception: block 14 on block-13 outputs).

    The convolutions train; batch normalisation stays frozen (``trainable = False``, which
    in Keras also means inference mode: its moving statistics never change), as the Keras
    transfer-learning guide advises. A ``training=False`` call argument alone is not enough: ``fit``
    overrides it and the statistics would drift (the tests check they do not).
    """
    import keras

    spec = backbones.spec(backbone)
    shape = tuple(int(d) for d in spec.cut(base).shape[1:])
    inputs = keras.Input(shape=shape, name="cut")
    x = inputs
    for name in spec.fine_tune_layers:
        layer = base.get_layer(name)
        # The base is frozen as a whole; the last layers' convolutions alone are opened.
        layer.trainable = not isinstance(layer, keras.layers.BatchNormalization)
        x = layer(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = head(x)
    return keras.Model(inputs, outputs, name=f"{spec.name}_end_and_head")


def snapshot(model) -> list[np.ndarray]:
    return [np.array(v.numpy()) for v in model.variables]


def restore(model, values: list[np.ndarray]) -> None:
    for variable, value in zip(model.variables, values):
        variable.assign(value)


def peak_memory_bytes() -> int:
    """Peak resident memory of this process so far (Linux reports kilobytes)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def measure_epoch(model, x, y, x_val, y_val, steps: int = 5) -> tuple[float, float]:
    """Seconds one epoch should take, and the fixed cost of starting a training (tracing), from a few
    timed training steps and one timed validation pass.

    Used for the estimate printed before fine-tuning starts; the model's weights are restored after.
    """
    saved = snapshot(model)
    start = time.perf_counter()
    model.train_on_batch(x[:BATCH_SIZE], y[:BATCH_SIZE])  # the first step traces the function
    first = time.perf_counter() - start
    times = []
    for i in range(0, min(len(x), steps * BATCH_SIZE), BATCH_SIZE):
        start = time.perf_counter()
        model.train_on_batch(x[i:i + BATCH_SIZE], y[i:i + BATCH_SIZE])
        times.append(time.perf_counter() - start)
    per_image = float(np.median(times)) / BATCH_SIZE  # the median: one step disturbed by another process is ignored
    start = time.perf_counter()
    model.evaluate(x_val, y_val, batch_size=64, verbose=0)
    validation = time.perf_counter() - start
    restore(model, saved)
    return per_image * len(x) + validation, max(0.0, first - per_image * BATCH_SIZE) + validation


def probe(prep) -> tuple[float, float, float]:
    """Seconds per fine-tuning epoch, start-up cost of each configuration, and the set-up of a seed's
    fine-tuning (building the model, measuring), measured on the study's own cached activations with
    an untrained head (the cost does not depend on the head's weights)."""
    began = time.perf_counter()
    from lionpoc.model import features
    from lionpoc.model.grid import standardisation
    from lionpoc.model.head import head_from_weights

    cfg = prep.cfg
    x_pooled, _, _ = prep.part("train")
    mean, variance = standardisation(x_pooled)
    head = head_from_weights(mean, variance, np.zeros((len(mean), 15), np.float32), np.zeros(15, np.float32),
                             cfg.dropout)
    train = prep.table[prep.table["split"] == "train"]
    val = prep.table[prep.table["split"] == "val"]
    x = prep.features.cut(train["file"].tolist())
    x_val = prep.features.cut(val["file"].tolist())
    model = build(features.build_base(cfg.weights, cfg.image_size, cfg.backbone), head, backbone=cfg.backbone)
    model.compile(optimizer=make_optimizer(cfg.spec, 1e-5, probe_decay(cfg.spec)),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.evaluate(x_val, val["label"].to_numpy(), batch_size=64, verbose=0)  # as fine_tune() does first
    per_epoch, start_cost = measure_epoch(model, x, train["label"].to_numpy(), x_val, val["label"].to_numpy())
    return per_epoch, start_cost, time.perf_counter() - began


def fine_tune(base, head, optimizer: OptimizerSpec, head_config: dict, x, y, x_val, y_val, *, epochs: int,
              patience: int, seed: int, log=print, estimate_for: int = 1,
              backbone: str = backbones.DEFAULT) -> FineTuned:
    """Train the backbone's last layers + head for each configuration; keep the best on validation.

    ``estimate_for`` is the number of seeds still to fine-tune, for the time estimate printed first.
    """
    import keras

    from lionpoc.model.head import EpochTimer, choose

    began = time.perf_counter()
    keras.utils.set_random_seed(seed)
    model = build(base, head, seed, backbone)
    start_weights = snapshot(model)
    model.compile(optimizer=make_optimizer(optimizer, 1e-4, probe_decay(optimizer)),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    _, before = model.evaluate(x_val, y_val, batch_size=64, verbose=0)
    points = grid(head_config, optimizer)
    per_epoch, start_cost = measure_epoch(model, x, y, x_val, y_val)
    budget = len(points) * epochs
    # What has been spent (building, first evaluation, this measurement) counts: the estimate is the seed's whole time.
    estimate = time.perf_counter() - began + per_epoch * budget + start_cost * len(points)
    log(f"fine-tuning {optimizer.name} seed {seed}: budget {len(points)} learning rates x at most {epochs} "
        f"epoch{'s' if epochs > 1 else ''} on "
        f"{len(x)} images; one epoch takes about {per_epoch:.1f} s here (measured), so at most {estimate:.0f} s "
        f"for this seed" + (f" and {estimate * estimate_for:.0f} s for the {estimate_for} seeds left"
                            if estimate_for > 1 else ""))
    fits, rows = [], []
    for point in points:
        restore(model, start_weights)
        keras.utils.set_random_seed(seed)
        dense = model.get_layer("head").get_layer("breed")
        # Adam's L2 penalty on the head's kernel, as in the grid (Keras adds l2 * sum(kernel^2) to the loss).
        dense.kernel.regularizer = keras.regularizers.L2(point["l2"]) if point.get("l2") else None
        model.compile(optimizer=make_optimizer(optimizer, point["learning_rate"], point.get("weight_decay", 0.0)),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
        timer = EpochTimer()
        logs = model.fit(x, y, validation_data=(x_val, y_val), epochs=epochs, batch_size=BATCH_SIZE, shuffle=True,
                         callbacks=[stop, timer], verbose=0)
        history = pd.DataFrame({k: logs.history[k] for k in ("loss", "accuracy", "val_loss", "val_accuracy")})
        history.insert(0, "epoch", np.arange(1, len(history) + 1))
        history["seconds"] = timer.seconds
        best = int(history["val_loss"].idxmin()) + 1
        if stop.best_weights is not None:
            model.set_weights(stop.best_weights)
        fits.append((history, best, snapshot(model)))
        rows.append({**point, "val_accuracy": float(history["val_accuracy"].iloc[best - 1]),
                     "val_loss": float(history["val_loss"].iloc[best - 1]), "epochs_run": len(history),
                     "best_epoch": best, "seconds": float(history["seconds"].sum())})
        log(f"fine-tuning {optimizer.name} seed {seed}: learning_rate={point['learning_rate']:.2g}: "
            f"val_accuracy={rows[-1]['val_accuracy']:.3f} after {len(history)} epochs ({rows[-1]['seconds']:.0f} s)")
    tuning = pd.DataFrame(rows)
    chosen = choose(tuning)
    tuning["chosen"] = False
    tuning.loc[chosen, "chosen"] = True
    history, best, weights = fits[chosen]
    restore(model, weights)
    model.get_layer("head").get_layer("breed").kernel.regularizer = None
    trainable = model.trainable_variables
    return FineTuned(points[chosen], model, history, tuning, best, float(before),
                     int(sum(int(np.prod(v.shape)) for v in trainable)),
                     int(state_bytes(make_optimizer(optimizer, 1e-4), trainable)["state_bytes"]),
                     peak_memory_bytes(), estimate)
