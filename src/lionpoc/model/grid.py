"""Every configuration of a grid trained at once: one stacked head, one optimizer, one compiled epoch.

Why: a head epoch is about a million multiply-adds a step; trained one configuration at a time with
``fit``, nearly all of its cost was Keras and Python overhead (about 0.3 s an epoch). Here the grid's
``H`` heads are the column blocks of one weight matrix ``(d + 1) x (H * 15)`` (``d``: the backbone's
feature width, 2,048 for Xception; the last row is the bias), so one matrix product serves them all; a
Keras optimizer (or our Lion) updates that matrix with a learning rate and a weight decay given *per
column*, which is exactly ``H`` independent optimizers because Adam, AdamW and Lion act coordinate by
coordinate. The whole epoch (every batch,
then validation) is one XLA-compiled function.

The protocol is unchanged: batch size, a new shuffle each epoch, dropout on the standardised
features, early stopping on the validation loss with patience and best weights restored, each head
on its own. The heads share the shuffle and the dropout masks (as configurations trained one by one
with the same seed do) and nothing else: the loss is a sum over heads, so each head's gradient
depends on its own weights only. Heads that have stopped leave the epoch once at most half of them
still train (``train``'s ``resize``); nothing after a head's stop is kept. The next epoch's shuffle and
masks are drawn in a thread while an epoch runs, from the seed's one generator, in order.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lionpoc.model.optimizers import OptimizerSpec, make_optimizer

EPSILON = 1e-7  # keras.layers.Normalization divides by max(std, epsilon)


@dataclass
class HeadResult:
    """One configuration's training: per-epoch history, best epoch, its weights at that epoch."""

    config: dict
    history: pd.DataFrame
    best_epoch: int
    val_loss: float
    val_accuracy: float
    kernel: np.ndarray   # (feature_dim, 15) at the best epoch
    bias: np.ndarray     # (15,)


def standardisation(x_train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of the training features (what ``Normalization.adapt`` computes)."""
    x = np.asarray(x_train, dtype=np.float64)
    return x.mean(axis=0).astype(np.float32), x.var(axis=0).astype(np.float32)


def standardise(x: np.ndarray, mean: np.ndarray, variance: np.ndarray) -> np.ndarray:
    return ((x - mean) / np.maximum(np.sqrt(variance), EPSILON)).astype(np.float32)


def cosine_factor(step, total_steps: int, warmup_steps: int):
    """Multiplier of the learning rate at ``step`` (0-based; NumPy or TensorFlow): ``(step + 1) / warmup``
    during the warm-up, then ``(1 + cos(pi * progress)) / 2`` from 1 down to 0 at ``total_steps``."""
    import tensorflow as tf

    step = tf.cast(step, tf.float32)
    warm = tf.minimum(1.0, (step + 1.0) / max(warmup_steps, 1))
    progress = tf.clip_by_value((step - warmup_steps) / max(total_steps - warmup_steps, 1), 0.0, 1.0)
    decay = 0.5 * (1.0 + tf.cos(np.pi * progress))
    return tf.where(step < warmup_steps, warm, decay)


class GridTrainer:
    """Trains the configurations of one optimizer's grid together; reusable across seeds.

    The compiled epoch is traced once per trainer: ``train`` resets the weights and the optimizer's
    state for each new seed, so a notebook that runs three seeds compiles once.
    """

    def __init__(self, optimizer: OptimizerSpec, grid_points: list[dict], n_features: int, n_classes: int, *,
                 n_train: int, batch_size: int, dropout: float, cosine: list[bool] | None = None,
                 total_steps: int = 0, warmup_steps: int = 0):
        """``cosine`` (one flag per configuration) gives a head the rate ``cosine_factor(step) x lr``
        instead of a constant one: a linear warm-up over ``warmup_steps``, then a cosine decay that
        reaches 0 at ``total_steps`` (and stays there)."""
        import keras
        import tensorflow as tf

        self.spec, self.points = optimizer, [dict(p) for p in grid_points]
        self.h, self.d, self.c = len(grid_points), n_features, n_classes
        self.n_train, self.batch_size, self.dropout = n_train, batch_size, dropout
        self.steps = -(-n_train // batch_size)
        self.draw_seconds = 0.0  # CPU time spent drawing shuffles and dropout masks (in the drawing thread)
        # The configurations' values are variables read by the compiled epoch, not constants baked into it:
        # ``set_points`` gives the same trainer other configurations (a bracketing round, another seed's)
        # without tracing or compiling again.
        self._lr = tf.Variable(self._per_column("learning_rate"), trainable=False)
        self._l2 = tf.Variable(self._per_column("l2"), trainable=False)
        self._decay = tf.Variable(self._per_column("weight_decay"), trainable=False)
        # The L2 penalty is computed only for an optimizer whose decay is one (``decay: l2``): for the others
        # every l2 is 0, and a penalty of 0 costs a fifth of the epoch for a loss and a gradient unchanged.
        self.penalised = optimizer.decay == "l2" or any(p.get("l2", 0.0) for p in self.points)
        self.weights = keras.Variable(np.zeros((self.d + 1, self.h * self.c), np.float32), name="stacked_heads")
        cosine = np.repeat(np.asarray(cosine if cosine is not None else [False] * self.h, bool), n_classes)[None, :]
        self._cosine, self.total_steps, self.warmup_steps = tf.constant(cosine), total_steps, warmup_steps
        rate = (lambda: self._lr) if not cosine.any() else self._scheduled_rate  # noqa: E731
        self.opt = make_optimizer(optimizer, rate, 0.0)
        if optimizer.decay == "decoupled":  # the optimizer's own decay, read per column at each step
            self.opt.weight_decay = self._decay
        self.opt.build([self.weights])
        self._epoch = tf.function(self._epoch_body, jit_compile=True, autograph=False)

    def _per_column(self, key: str) -> np.ndarray:
        return np.repeat(np.array([p.get(key, 0.0) for p in self.points], np.float32), self.c)[None, :]

    def set_points(self, grid_points: list[dict]) -> None:
        """Train other configurations (as many as this trainer has heads) with the compiled epoch as it is."""
        if len(grid_points) != self.h:
            raise ValueError(f"this trainer trains {self.h} configurations, not {len(grid_points)}")
        if not self.penalised and any(p.get("l2", 0.0) for p in grid_points):
            raise ValueError("this trainer was compiled without the L2 penalty: give it configurations without l2")
        self.points = [dict(p) for p in grid_points]
        for variable, key in ((self._lr, "learning_rate"), (self._l2, "l2"), (self._decay, "weight_decay")):
            variable.assign(self._per_column(key))

    def _scheduled_rate(self):
        import tensorflow as tf

        factor = cosine_factor(tf.cast(self.opt.iterations, tf.float32), self.total_steps, self.warmup_steps)
        return tf.where(self._cosine, self._lr * factor, self._lr)

    # ------------------------------------------------------------------ the compiled epoch
    def _logits(self, x, w):
        import tensorflow as tf

        return tf.reshape(tf.matmul(x, w), (-1, self.h, self.c))

    def _losses(self, logits, y):
        import tensorflow as tf

        labels = tf.repeat(y[:, None], self.h, axis=1)
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)       # (batch, heads)

    def _epoch_body(self, x, y, x_val, y_val, index, sample_weight, keep):
        import tensorflow as tf

        kernel_rows = tf.concat([tf.ones((self.d, 1)), tf.zeros((1, 1))], axis=0)  # L2 on kernels, not biases

        def step(i, totals, correct):
            xb, yb, wb = tf.gather(x, index[i]), tf.gather(y, index[i]), sample_weight[i]
            scale = tf.cast(keep[i], tf.float32) / (1.0 - self.dropout)
            xb = tf.concat([xb * scale, tf.ones((self.batch_size, 1))], axis=1)  # the bias input is never dropped
            with tf.GradientTape() as tape:
                w = self.weights.value
                logits = self._logits(xb, w)
                data_loss = tf.reduce_sum(self._losses(logits, yb) * wb[:, None], axis=0) / tf.reduce_sum(wb)
                per_head = data_loss
                if self.penalised:  # l2 * sum(kernel^2); without an l2 axis it is 0 and adds nothing, exactly
                    squares = tf.reduce_sum(kernel_rows * tf.square(w), axis=0) * self._l2[0]
                    per_head = data_loss + tf.reduce_sum(tf.reshape(squares, (self.h, self.c)), axis=1)
                total = tf.reduce_sum(per_head)
            gradient = tape.gradient(total, w)
            self.opt.apply_gradients([(gradient, self.weights)])
            hits = tf.cast(tf.equal(tf.argmax(logits, axis=-1, output_type=tf.int32), yb[:, None]), tf.float32)
            return i + 1, totals + per_head * tf.reduce_sum(wb), correct + tf.reduce_sum(hits * wb[:, None], axis=0)

        # An explicit loop (the function is not converted by autograph): tracing a trainer costs a second less.
        _, totals, correct = tf.while_loop(lambda i, *_: i < self.steps, step,
                                           (tf.constant(0), tf.zeros((self.h,)), tf.zeros((self.h,))))
        x_val = tf.concat([x_val, tf.ones((tf.shape(x_val)[0], 1))], axis=1)
        val_logits = self._logits(x_val, self.weights.value)
        val_loss = tf.reduce_mean(self._losses(val_logits, y_val), axis=0)
        val_hits = tf.cast(tf.equal(tf.argmax(val_logits, axis=-1, output_type=tf.int32), y_val[:, None]), tf.float32)
        return totals / self.n_train, correct / self.n_train, val_loss, tf.reduce_mean(val_hits, axis=0)

    # ------------------------------------------------------------------ one training
    def reset(self, seed: int) -> None:
        """Same initial head for every configuration (Glorot uniform, seeded), fresh optimizer state."""
        import keras

        kernel = np.asarray(keras.initializers.GlorotUniform(seed=seed)((self.d, self.c)), np.float32)
        start = np.vstack([kernel, np.zeros((1, self.c), np.float32)])
        self.weights.assign(np.tile(start, (1, self.h)))
        for variable in self.opt.variables:  # iterations, momentums, velocities: all start at zero
            variable.assign(np.zeros(variable.shape, dtype=variable.dtype))

    def train(self, x_train, y_train, x_val, y_val, *, epochs: int, patience: int, seed: int,
              heads: int | None = None, resize=None) -> list[HeadResult]:
        """Train every head with early stopping; return each head at its best epoch.

        ``x_train`` and ``x_val`` are standardised features (see ``standardise``). ``heads``: only the
        first ``heads`` configurations are trained and returned, the others pad the trainer to its size.
        ``resize(h)``, when given, returns a trainer of ``h`` heads (same optimizer and shapes): once no
        more than half of the current heads are still training, the heads still training move to the
        smallest power of two that holds them, weights and optimizer state with them, and the epoch
        costs their arithmetic instead of the whole grid's. A head's numbers do not depend on the heads
        beside it (nothing couples them but the shared shuffle and masks, drawn the same way).
        """
        import tensorflow as tf

        self.reset(seed)
        n = self.h if heads is None else heads
        rng = np.random.default_rng(seed)
        pad = self.steps * self.batch_size - self.n_train
        weight = np.concatenate([np.ones(self.n_train), np.zeros(pad)]).astype(np.float32).reshape(
            self.steps, self.batch_size)
        args = [tf.constant(np.asarray(x_train, np.float32)), tf.constant(np.asarray(y_train, np.int32)),
                tf.constant(np.asarray(x_val, np.float32)), tf.constant(np.asarray(y_val, np.int32))]
        best_loss = np.full(n, np.inf)
        best_epoch = np.zeros(n, int)
        wait = np.zeros(n, int)
        stopped = np.zeros(n, bool)
        best_weights = self.weights.numpy()[:, :n * self.c].copy()
        rows = [[] for _ in range(n)]
        current, slots = self, np.array(list(range(n)) + [-1] * (self.h - n))  # slot -> head (-1: padding)

        def draw():  # the shuffle, then the dropout masks, of one epoch: always in this order from ``rng``
            began = time.thread_time()
            order = np.concatenate([rng.permutation(self.n_train), np.zeros(pad, int)]).astype(np.int32)
            keep = rng.random((self.steps, self.batch_size, self.d), dtype=np.float32) >= self.dropout
            self.draw_seconds += time.thread_time() - began  # CPU time, which a profiler of the caller misses
            return order.reshape(self.steps, self.batch_size), keep

        # The next epoch's draws are made in a thread while this epoch runs (the compiled epoch releases
        # the interpreter): where a core is free, the masks cost no time. One thread draws them all, in turn,
        # so the stream is the one a plain loop draws; a draw made for an epoch that never runs is dropped.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="lionpoc-draws") as pool:
            upcoming = pool.submit(draw)
            for epoch in range(1, epochs + 1):
                start = time.perf_counter()
                order, keep = upcoming.result()
                if epoch < epochs:
                    upcoming = pool.submit(draw)
                outputs = [v.numpy() for v in current._epoch(*args, order, weight, keep)]
                seconds = (time.perf_counter() - start) / current.h  # each head's share of the joint epoch
                real = slots >= 0
                here = slots[real]
                loss, accuracy, val_loss, val_accuracy = (np.full(n, np.nan) for _ in range(4))
                for values, out in zip((loss, accuracy, val_loss, val_accuracy), outputs):
                    values[here] = out[real]
                improved = np.zeros(n, bool)
                improved[here] = (val_loss[here] < best_loss[here]) & ~stopped[here]
                if improved.any():
                    now = current.weights.numpy()
                    for slot in np.flatnonzero(real):
                        h = slots[slot]
                        if improved[h]:
                            best_weights[:, h * self.c:(h + 1) * self.c] = now[:, slot * self.c:(slot + 1) * self.c]
                for h in np.flatnonzero(~stopped):
                    rows[h].append((epoch, loss[h], accuracy[h], val_loss[h], val_accuracy[h], seconds))
                    if improved[h]:
                        best_loss[h], best_epoch[h], wait[h] = val_loss[h], epoch, 0
                    else:
                        wait[h] += 1
                        stopped[h] = wait[h] >= patience and epoch > 1
                if stopped.all():
                    break
                active = np.flatnonzero(~stopped)
                size = 1 << int(np.ceil(np.log2(len(active))))
                if resize is not None and size <= current.h // 2:
                    current, slots = self._move(current, slots, active, resize(size))
        out = []
        columns = ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds"]
        for h, point in enumerate(self.points[:n]):
            history = pd.DataFrame(rows[h], columns=columns).astype({"epoch": int})
            b = int(best_epoch[h])
            cols = slice(h * self.c, (h + 1) * self.c)
            out.append(HeadResult(point, history, b, float(history["val_loss"].iloc[b - 1]),
                                  float(history["val_accuracy"].iloc[b - 1]), best_weights[:-1, cols].copy(),
                                  best_weights[-1, cols].copy()))
        return out

    def _move(self, source: "GridTrainer", slots: np.ndarray, active: np.ndarray, target: "GridTrainer"):
        """The heads ``active`` (of this training) from their slots in ``source`` to the first slots of
        ``target``, with their weights and optimizer state (its step count too); the rest of ``target``
        repeats the first of them and is not recorded. Returns ``target`` and its slots."""
        at = [int(np.flatnonzero(slots == h)[0]) for h in active]
        padding = target.h - len(active)
        at += [at[0]] * padding
        target.set_points([self.points[h] for h in active] + [self.points[active[0]]] * padding)
        cols = np.concatenate([np.arange(s * self.c, (s + 1) * self.c) for s in at])
        target.weights.assign(source.weights.numpy()[:, cols])
        for old, new in zip(source.opt.variables, target.opt.variables):
            value = old.numpy()
            new.assign(value[:, cols] if value.ndim == 2 else value)
        return target, np.array(list(active) + [-1] * padding)


class OneAtATime:
    """A grid trained one configuration at a time, for optimizers that do not act coordinate by coordinate.

    LAMB's per-layer trust ratio, Adafactor's factored moments or Muon's orthogonalised updates couple
    the coordinates of a weight matrix: the grid's configurations cannot share one matrix, so each gets
    its own (a ``GridTrainer`` of one configuration), trained after the other. Same protocol, same
    results table; each configuration's seconds are then its own.
    """

    def __init__(self, optimizer: OptimizerSpec, grid_points: list[dict], n_features: int, n_classes: int, **kw):
        self.spec, self.points = optimizer, [dict(p) for p in grid_points]
        self.h = len(self.points)
        self.trainers = [GridTrainer(optimizer, [p], n_features, n_classes, **kw) for p in self.points]

    def set_points(self, grid_points: list[dict]) -> None:
        if len(grid_points) != self.h:
            raise ValueError(f"this trainer trains {self.h} configurations, not {len(grid_points)}")
        self.points = [dict(p) for p in grid_points]
        for trainer, point in zip(self.trainers, self.points):
            trainer.set_points([point])

    def train(self, *args, **kwargs) -> list[HeadResult]:
        return [head for trainer in self.trainers for head in trainer.train(*args, **kwargs)]


def make_trainer(optimizer: OptimizerSpec, grid_points: list[dict], n_features: int, n_classes: int, **kw):
    """The fastest valid trainer: every configuration together when the optimizer allows it."""
    kind = GridTrainer if optimizer.coordinatewise else OneAtATime
    return kind(optimizer, grid_points, n_features, n_classes, **kw)
