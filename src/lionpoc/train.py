"""Training: the classification head on cached features, early stopping, timing, and the grid search.

The head is ``Normalization -> Dropout -> Dense(softmax)``. The normalisation is adapted on the
training features only: it standardises the 2,048 features (with random weights their spread is
about 1e-5 and a dense layer learns nothing without it; with ImageNet weights it is harmless).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .optimizers import make_optimizer


@dataclass
class Fit:
    """One trained head: its configuration, per-epoch history and validation scores."""

    config: dict
    model: object
    history: pd.DataFrame       # epoch, loss, accuracy, val_loss, val_accuracy, seconds
    best_epoch: int             # 1-based epoch whose weights were kept (lowest val_loss)
    val_loss: float
    val_accuracy: float
    seconds: float = field(default=0.0)


class EpochTimer:
    """Keras callback recording the wall time of each epoch (built lazily so keras loads on demand)."""

    def __new__(cls):
        import keras

        class _Timer(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                self.seconds = []

            def on_epoch_begin(self, epoch, logs=None):
                self._start = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                self.seconds.append(time.perf_counter() - self._start)

        return _Timer()


def build_head(train_features: np.ndarray, n_classes: int, dropout: float = 0.2, l2: float = 0.0, seed: int = 0):
    """Normalisation (adapted on the training features) -> dropout -> dense softmax."""
    import keras

    normalise = keras.layers.Normalization(name="standardise")
    normalise.adapt(train_features)
    inputs = keras.Input(shape=(train_features.shape[1],), name="features")
    x = normalise(inputs)
    x = keras.layers.Dropout(dropout, seed=seed, name="dropout")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="breed",
                                 kernel_regularizer=keras.regularizers.L2(l2) if l2 else None)(x)
    return keras.Model(inputs, outputs, name="head")


def fit_head(x_train, y_train, x_val, y_val, optimizer: str, config: dict, n_classes: int, *, epochs: int,
             patience: int, batch_size: int, dropout: float, seed: int) -> Fit:
    """Train one head with early stopping on validation loss (best weights restored)."""
    import keras

    keras.utils.set_random_seed(seed)
    model = build_head(x_train, n_classes, dropout, config.get("l2", 0.0), seed)
    model.compile(optimizer=make_optimizer(optimizer, config["learning_rate"], config.get("weight_decay", 0.0)),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
    timer = EpochTimer()
    start = time.perf_counter()
    logs = model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=epochs, batch_size=batch_size,
                     shuffle=True, callbacks=[stop, timer], verbose=0)
    seconds = time.perf_counter() - start
    history = pd.DataFrame({key: logs.history[key] for key in ("loss", "accuracy", "val_loss", "val_accuracy")})
    history.insert(0, "epoch", np.arange(1, len(history) + 1))
    history["seconds"] = timer.seconds
    best = int(history["val_loss"].idxmin())
    val_loss, val_accuracy = model.evaluate(x_val, y_val, verbose=0)
    return Fit(dict(config), model, history, best + 1, float(val_loss), float(val_accuracy), seconds)


def grid_search(x_train, y_train, x_val, y_val, optimizer: str, grid_points: list[dict], n_classes: int,
                log=print, **fit_options) -> tuple[Fit, pd.DataFrame]:
    """Train one head per configuration and keep the best on the validation split.

    Only training and validation data are passed in: the test split cannot influence the choice.
    The best configuration has the highest validation accuracy; ties go to the lower validation loss.
    """
    fits, rows = [], []
    for i, config in enumerate(grid_points, 1):
        fit = fit_head(x_train, y_train, x_val, y_val, optimizer, config, n_classes, **fit_options)
        fits.append(fit)
        rows.append({**config, "val_accuracy": fit.val_accuracy, "val_loss": fit.val_loss,
                     "epochs_run": len(fit.history), "best_epoch": fit.best_epoch, "seconds": fit.seconds})
        settings = ", ".join(f"{k}={v:g}" for k, v in config.items())
        log(f"[{optimizer} {i}/{len(grid_points)}] {settings}: val_accuracy={fit.val_accuracy:.3f} "
            f"val_loss={fit.val_loss:.3f} after {len(fit.history)} epochs ({fit.seconds:.1f} s)")
    table = pd.DataFrame(rows)
    order = sorted(range(len(fits)), key=lambda i: (-round(fits[i].val_accuracy, 9), fits[i].val_loss))
    table["chosen"] = False
    table.loc[order[0], "chosen"] = True
    return fits[order[0]], table


def fine_tune(base, head, train_images, y_train, val_images, y_val, optimizer: str, config: dict, *,
              blocks: int = 2, epochs: int = 5, batch_size: int = 16, seed: int = 0):
    """Unfreeze the last ``blocks`` Xception blocks and train base + head end to end (for a GPU).

    Batch normalisation layers stay frozen and in inference mode, as advised for fine-tuning
    on small data sets; the learning rate is a tenth of the head's.
    """
    import keras

    keras.utils.set_random_seed(seed)
    last = 14
    unfrozen = tuple(f"block{last - i}_" for i in range(blocks))
    base.trainable = True
    for layer in base.layers:
        layer.trainable = layer.name.startswith(unfrozen) and not isinstance(layer, keras.layers.BatchNormalization)
    inputs = keras.Input(shape=base.input_shape[1:])
    outputs = head(base(inputs, training=False))
    model = keras.Model(inputs, outputs, name="xception_fine_tuned")
    model.compile(optimizer=make_optimizer(optimizer, config["learning_rate"] / 10, config.get("weight_decay", 0.0)),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    logs = model.fit(train_images, y_train, validation_data=(val_images, y_val), epochs=epochs,
                     batch_size=batch_size, verbose=0)
    return model, pd.DataFrame(logs.history)
