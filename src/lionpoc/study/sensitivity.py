"""Sensitivity study: each optimizer's chosen configuration trained again at other batch sizes and with a
cosine learning-rate schedule, on the cached features (``lionpoc study --sensitivity``; off by default).

Why: the Lion paper (Chen et al., 2023) recommends a batch size of at least 64 and reports that Lion's
gain over AdamW grows with the batch size; it also reports its results with a cosine schedule. The
main study uses batch 32 and a constant rate. So, for every optimizer and seed, the configuration
chosen on validation by the main study is trained again at batch sizes 32, 64, 128 and 256, with the
constant rate and with a cosine schedule, and scored on the test split. Nothing is chosen here: every
variant is reported, so the test split informs no decision.

Learning rate across batch sizes: the **square-root rule**, ``lr_B = lr_32 * sqrt(B / 32)``. For
adaptive methods (Adam, AdamW) the square-root rule is the one derived from their stochastic
differential equation (Malladi et al., 2022, "On the SDEs and Scaling Rules for Adaptive Gradient
Algorithms"): a batch ``k`` times larger divides the gradient noise's variance by ``k``, and the
normalised step keeps the same dynamics when the rate grows by ``sqrt(k)``. The linear rule (Goyal
et al., 2017) is SGD's; applied to normalised or sign steps it multiplies every coordinate's move by 8
at batch 256, which for Lion, whose every coordinate moves by exactly ``lr``, means steps 8 times
larger than the ones validated. The square-root rule treats the three optimizers alike, with no
re-tuning (which would need the validation split again for each batch size).

Schedule: "cosine" is a linear warm-up over the first ``WARMUP_FRACTION`` of the schedule's steps,
then a cosine decay to 0. Its length is the number of epochs the constant rate used at the same batch
size (its early-stopped length, set on validation), so the cosine has ended when the constant run
stopped and both had the same number of steps: a fixed length in epochs would starve large batches
(8 times fewer steps at 256) of the steps a small learning rate needs. The epoch budget, patience and
best-weights rule are the main study's; a cosine run whose rate has reached 0 stops by patience.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from lionpoc import files
from lionpoc.model.evaluate import evaluate
from lionpoc.model.grid import make_trainer, standardisation, standardise

BATCH_SIZES = (32, 64, 128, 256)
SCHEDULES = ("constant", "cosine")
WARMUP_FRACTION = 0.05   # "a short warm-up": 5 % of the schedule's steps (at least one)
FILE = "sensitivity.csv"


def scaled_rate(learning_rate: float, batch_size: int, reference: int) -> float:
    """The square-root rule: the rate chosen at ``reference`` scaled by ``sqrt(batch_size / reference)``."""
    return float(learning_rate) * math.sqrt(batch_size / reference)


def schedule_steps(epochs: int, n_train: int, batch_size: int) -> tuple[int, int]:
    """(total, warm-up) steps of the cosine schedule spread over ``epochs`` epochs at this batch size."""
    total = max(1, epochs) * -(-n_train // batch_size)
    return total, max(1, round(WARMUP_FRACTION * total))


def run(prep, seed: int, fit, log=print, batch_sizes=BATCH_SIZES) -> pd.DataFrame:
    """Train the chosen configuration ``fit.config`` at each batch size, constant and cosine; score each on
    the test split. One row per batch size and schedule."""
    cfg = prep.cfg
    x_train, y_train, _ = prep.part("train")
    x_val, y_val, _ = prep.part("val")
    x_test, y_test, test_files = prep.part("test")
    mean, variance = standardisation(x_train)
    x_train, x_val, x_test = (standardise(x, mean, variance) for x in (x_train, x_val, x_test))
    rows = []
    for batch_size in batch_sizes:
        rate = scaled_rate(fit.config["learning_rate"], batch_size, cfg.batch_size)
        point = {**fit.config, "learning_rate": rate}
        constant = _train(cfg, point, batch_size, x_train, y_train, x_val, y_val, seed,
                          n_classes=prep.dataset.n_classes)
        # The cosine spans the epochs the constant rate needed at this batch size (its early-stopped length).
        total, warmup = schedule_steps(len(constant.history), len(x_train), batch_size)
        cosine = _train(cfg, point, batch_size, x_train, y_train, x_val, y_val, seed, total, warmup,
                        n_classes=prep.dataset.n_classes)
        for schedule, head in zip(SCHEDULES, (constant, cosine)):
            logits = x_test @ head.kernel + head.bias
            probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
            scored = evaluate(y_test, probabilities / probabilities.sum(axis=1, keepdims=True), test_files,
                              prep.dataset.names)
            rows.append({"optimizer": cfg.optimizer, "seed": seed, "batch_size": batch_size, "schedule": schedule,
                         **{k: float(v) for k, v in fit.config.items()}, "base_learning_rate": fit.config["learning_rate"],
                         "learning_rate": rate, "scaling": "sqrt",
                         "schedule_steps": total if schedule == "cosine" else 0,
                         "warmup_steps": warmup if schedule == "cosine" else 0,
                         "test_accuracy": scored.accuracy, "test_macro_f1": scored.macro_f1,
                         "val_accuracy": head.val_accuracy, "val_loss": head.val_loss,
                         "epochs_run": len(head.history), "best_epoch": head.best_epoch,
                         "train_seconds": float(head.history["seconds"].sum())})
        log(f"sensitivity {cfg.optimizer} seed {seed}: batch {batch_size} (rate {rate:.3g}): test accuracy "
            f"{rows[-2]['test_accuracy']:.3f} constant, {rows[-1]['test_accuracy']:.3f} cosine")
    return pd.DataFrame(rows)


def _train(cfg, point: dict, batch_size: int, x_train, y_train, x_val, y_val, seed: int, total_steps: int = 0,
           warmup_steps: int = 0, n_classes: int = 15):
    """One head of ``point`` at ``batch_size``: constant rate, or cosine when ``total_steps`` is given."""
    trainer = make_trainer(cfg.spec, [point], x_train.shape[1], n_classes, n_train=len(x_train),
                           batch_size=batch_size, dropout=cfg.dropout, cosine=[total_steps > 0],
                           total_steps=total_steps, warmup_steps=warmup_steps)
    return trainer.train(x_train, y_train, x_val, y_val, epochs=cfg.epochs, patience=cfg.patience, seed=seed)[0]


def write_table(results_dir: str | Path) -> pd.DataFrame:
    """``results/sensitivity.csv``: every seed's ``sensitivity.csv`` of the complete runs, or no file."""
    from lionpoc.study import layout

    results_dir = Path(results_dir)
    parts = [pd.read_csv(Path(run.path) / FILE) for run in layout.find_runs(results_dir).itertuples()
             if (Path(run.path) / FILE).is_file()]
    target = results_dir / FILE
    if not parts:
        target.unlink(missing_ok=True)
        return pd.DataFrame()
    table = pd.concat(parts, ignore_index=True)
    files.write_csv(target, table)
    return table
