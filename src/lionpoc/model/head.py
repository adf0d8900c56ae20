"""Training the classification head on cached features: the grid search and the chosen head.

The head is ``Normalization -> Dropout -> Dense(softmax)``. The normalisation is adapted on the
training features only: it standardises the backbone's features (2,048 for Xception; with random weights
their spread is about 1e-5 and a dense layer learns nothing without it; with ImageNet weights it is harmless).

``grid_search`` trains all the grid's configurations together (``grid.py``, fast); ``fit_head`` is
the straightforward Keras ``fit`` of one configuration, kept as the reference the fast path is
tested against and as the "naive" side of ``lionpoc bench``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lionpoc.model.grid import make_trainer, standardisation, standardise
from lionpoc.model.optimizers import OptimizerSpec, make_optimizer


@dataclass
class Fit:
    """One trained head: its configuration, per-epoch history and validation scores.

    A head chosen by the grid carries its weights (``weights``: mean, variance, kernel, bias); its Keras
    model is then built only when something asks for it (fine-tuning, a test), and ``probabilities``
    scores features without one.
    """

    config: dict
    _model: object = field(repr=False)
    history: pd.DataFrame       # epoch, loss, accuracy, val_loss, val_accuracy, seconds
    best_epoch: int             # 1-based epoch whose weights were kept (lowest val_loss)
    val_loss: float
    val_accuracy: float
    seconds: float = field(default=0.0)
    weights: tuple | None = field(default=None, repr=False)   # (mean, variance, kernel, bias)
    dropout: float = 0.2
    seed: int = 0

    @property
    def model(self):
        """The Keras head (``Normalization -> Dropout -> Dense(softmax)``), built on first use."""
        if self._model is None:
            self._model = head_from_weights(*self.weights, self.dropout, self.seed)
        return self._model

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities of ``x`` (features) in one batch: bit for bit what the Keras head predicts
        (TensorFlow's own matrix product and softmax; NumPy's would move the sixth decimal of some
        confidences), without building and tracing a model for each seed."""
        if self.weights is None:
            return np.asarray(self.model.predict(x, verbose=0))
        import tensorflow as tf

        mean, variance, kernel, bias = self.weights
        return tf.nn.softmax(tf.matmul(standardise(x, mean, variance), kernel) + bias).numpy()


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


def fit_head(x_train, y_train, x_val, y_val, optimizer: OptimizerSpec, config: dict, n_classes: int, *, epochs: int,
             patience: int, batch_size: int, dropout: float, seed: int) -> Fit:
    """Train one head with Keras ``fit``, early stopping on validation loss (best weights restored).

    The reference the joint grid training is checked against; the study itself uses ``grid_search``.
    """
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
    model.set_weights(stop.best_weights or model.get_weights())  # best weights, even without an early stop
    val_loss, val_accuracy = model.evaluate(x_val, y_val, verbose=0)
    return Fit(dict(config), model, history, best + 1, float(val_loss), float(val_accuracy), seconds)


def head_from_weights(mean, variance, kernel, bias, dropout: float = 0.2, seed: int = 0):
    """The Keras head with given standardisation and dense weights (the grid's chosen configuration)."""
    import keras

    inputs = keras.Input(shape=(len(mean),), name="features")
    x = keras.layers.Normalization(mean=mean, variance=variance, name="standardise")(inputs)
    x = keras.layers.Dropout(dropout, seed=seed, name="dropout")(x)
    outputs = keras.layers.Dense(len(bias), activation="softmax", name="breed")(x)
    model = keras.Model(inputs, outputs, name="head")
    model.get_layer("breed").set_weights([kernel, bias])
    return model


def choose(table: pd.DataFrame) -> int:
    """Position of the chosen configuration: best validation accuracy, ties to the lower validation loss."""
    order = sorted(range(len(table)), key=lambda i: (-round(float(table["val_accuracy"].iloc[i]), 9),
                                                     float(table["val_loss"].iloc[i])))
    return order[0]


def grid_search(x_train, y_train, x_val, y_val, optimizer: OptimizerSpec, grid_points: list[dict], n_classes: int,
                log=print, trainer=None, *, epochs: int, patience: int, batch_size: int,
                dropout: float, seed: int) -> tuple[Fit, pd.DataFrame]:
    """Train every configuration (together) and keep the best on the validation split; no extension.

    ``grid_points`` may be any list of configurations. Only training and validation data are passed
    in: the test split cannot influence the choice. Pass the ``trainer`` of an earlier call (same
    optimizer, number of configurations and shapes) to reuse its compiled epoch for another seed or grid.
    """
    axes = tuple(sorted({k for p in grid_points for k in p}))
    trainers = {(len(grid_points), axes): trainer} if trainer is not None else {}
    train, scaling, seconds = _trainer(x_train, y_train, x_val, y_val, optimizer, n_classes, trainers,
                                       grid_points, epochs=epochs, patience=patience, batch_size=batch_size,
                                       dropout=dropout, seed=seed)
    trained = train(grid_points)
    table = pd.DataFrame([{**h.config, **row} for row, h in trained])
    chosen = choose(table)
    table["chosen"] = np.arange(len(table)) == chosen
    best = trained[chosen][1]
    how = "trained together" if optimizer.coordinatewise else "trained one at a time"
    log(f"[{optimizer.name} seed {seed}] {len(table)} configurations {how} in {sum(seconds):.1f} s "
        f"({int(table['epochs_run'].max())} epochs at most); {_chosen_words(best)}")
    return _fit(best, scaling, dropout, seed), table


def bracketed_search(x_train, y_train, x_val, y_val, optimizer: OptimizerSpec, grid_points: list[dict], n_classes: int,
                     log=print, trainers: dict | None = None, *, extend: bool = True, epochs: int, patience: int,
                     batch_size: int, dropout: float, seed: int):
    """The grid search, extended where its choice sits on an edge (``bracket.search``).

    ``grid_points`` is the full product of the axes (``RunConfig.grid_points``). ``trainers`` caches
    the compiled trainers by their number of heads, so that further rounds and seeds reuse them (a dict
    the caller keeps): a notebook compiles the first grid's size and a few powers of two, not one epoch
    per round. Returns the chosen ``Fit``, the table of every configuration tried and the ``Bracketing``
    record. Only training and validation data are passed in.
    """
    from lionpoc.model import bracket

    axes = list(grid_points[0])
    grid = {a: sorted({float(p[a]) for p in grid_points}) for a in axes}
    if len(grid_points) != int(np.prod([len(v) for v in grid.values()])):
        raise ValueError("grid_points must be the full product of the grid's axes")
    train, scaling, seconds = _trainer(x_train, y_train, x_val, y_val, optimizer, n_classes,
                                       {} if trainers is None else trainers, grid_points, epochs=epochs,
                                       patience=patience, batch_size=batch_size, dropout=dropout, seed=seed)
    table, best, record = bracket.search(grid, train, choose, extend=extend, log=log)
    log(f"[{optimizer.name} seed {seed}] {bracket.describe(record)}, trained in {sum(seconds):.1f} s "
        f"({int(table['epochs_run'].max())} epochs at most); {_chosen_words(best)}")
    return _fit(best, scaling, dropout, seed), table, record


def _trainer(x_train, y_train, x_val, y_val, optimizer, n_classes, trainers: dict, grid_points, *, epochs, patience,
             batch_size, dropout, seed):
    """``train(points) -> [(row, HeadResult)]`` on the standardised features, the standardisation, and a
    list that collects the seconds of each call. Trainers are compiled once per number of heads; heads that
    have stopped leave the epoch (``GridTrainer.train``'s ``resize``)."""
    mean, variance = standardisation(x_train)
    x_train_std, x_val_std = standardise(x_train, mean, variance), standardise(x_val, mean, variance)
    seconds = []

    axes = tuple(sorted({k for p in grid_points for k in p}))

    def trainer_of(size: int, points: list[dict]):
        if trainers.get((size, axes)) is None:
            trainers[(size, axes)] = make_trainer(optimizer, points, x_train.shape[1], n_classes,
                                                  n_train=len(x_train), batch_size=batch_size, dropout=dropout)
        return trainers[(size, axes)]

    def train(points):
        # Each list trains on a trainer of its own size: padding a round of 7 to 8 heads changed, by rounding,
        # one of Lion's configurations enough to move a seed's choice (measured on the real photos).
        n = len(points)
        trainer = trainer_of(n, points)
        trainer.set_points(points)  # the compiled epoch is kept: only the configurations' values change
        start = time.perf_counter()
        options = dict(resize=lambda h: trainer_of(h, [points[0]] * h)) if optimizer.coordinatewise else {}
        heads = trainer.train(x_train_std, y_train, x_val_std, y_val, epochs=epochs, patience=patience, seed=seed,
                              **options)
        seconds.append(time.perf_counter() - start)
        return [({"val_accuracy": h.val_accuracy, "val_loss": h.val_loss, "epochs_run": len(h.history),
                  "best_epoch": h.best_epoch, "seconds": float(h.history["seconds"].sum())}, h) for h in heads]

    return train, (mean, variance), seconds


def _chosen_words(best) -> str:
    settings = ", ".join(f"{k}={v:g}" for k, v in best.config.items())
    return (f"chosen {settings}: val_accuracy={best.val_accuracy:.3f}, val_loss={best.val_loss:.3f} "
            f"at epoch {best.best_epoch}")


def _fit(best, scaling, dropout: float, seed: int) -> Fit:
    return Fit(dict(best.config), None, best.history, best.best_epoch, best.val_loss, best.val_accuracy,
               float(best.history["seconds"].sum()), (*scaling, best.kernel, best.bias), dropout, seed)
