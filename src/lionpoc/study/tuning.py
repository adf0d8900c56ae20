"""Tuning in full view: every configuration each seed tried, the selection rule as data, and the expected
best validation accuracy against the number of configurations tried (Dodge et al. 2019).

Each run's ``tuning.csv`` holds one row per configuration trained on the training split and scored on
the validation split: its grid values (``learning_rate`` and the decay axis), ``val_accuracy``,
``val_loss``, ``epochs_run``, ``best_epoch``, ``seconds``, the ``round`` that added it (0: the initial grid,
k: the k-th extension of an axis whose choice sat on an edge) and whether it was ``chosen``.

The expected best validation accuracy after ``n`` configurations is Dodge et al.'s estimator: with the
``N`` validation accuracies a seed tried sorted ``v_(1) <= ... <= v_(N)``, ``E[max of n draws] =
sum_i v_(i) ((i/N)^n − ((i−1)/N)^n)`` (draws with replacement from the configurations tried), averaged
over seeds. It reads a grid as if its configurations were random draws from the search space: it
compares budgets, it does not replay the grid's order. The band is a bootstrap (seeds, then
configurations within each seed), ``BAND_RESAMPLES`` replicates, fixed seed.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

# The rule that picks a seed's configuration (``model.head.choose``), as recorded data: keys in order.
SELECTION = (("val_accuracy", "highest"), ("val_loss", "lowest, among equal validation accuracies"))
RESULT_COLUMNS = ("val_accuracy", "val_loss", "epochs_run", "best_epoch", "seconds", "round", "chosen")
BAND_RESAMPLES = 2_000
LEVEL = 0.95
SEED = 0

TRIAL_COLUMNS = ["optimizer", "seed", "configuration", "learning_rate", "decay_axis", "decay", "val_accuracy",
                 "val_loss", "epochs_run", "best_epoch", "seconds", "round", "initial", "chosen",
                 "at_chosen_decay"]
SUMMARY_COLUMNS = ["optimizer", "seed", "configurations_tried", "initial_configurations", "extended_configurations",
                   "learning_rates_tried", "decays_tried", "chosen_learning_rate", "decay_axis", "chosen_decay",
                   "chosen_val_accuracy", "chosen_val_loss", "rule_agrees"]
CURVE_COLUMNS = ["optimizer", "n_configurations", "expected_best_val_accuracy", "low", "high", "n_seeds",
                 "tried_mean", "tried_min", "tried_max", "level"]


def selection_rule() -> pd.DataFrame:
    """The selection criterion as a table: ``order``, ``key``, ``direction``."""
    return pd.DataFrame([{"order": i + 1, "key": key, "direction": how} for i, (key, how) in enumerate(SELECTION)])


def decay_axis(table: pd.DataFrame) -> str | None:
    """The grid's second axis (``weight_decay`` or ``l2``...): a column of the table that is neither the rate
    nor a result; None when the grid has only the learning rate."""
    axes = [c for c in table.columns if c not in RESULT_COLUMNS and c != "learning_rate"]
    return axes[0] if axes else None


def trials(runs: pd.DataFrame, file: str = "tuning.csv") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(every configuration tried by every run, ``TRIAL_COLUMNS``; one row per run, ``SUMMARY_COLUMNS``).

    ``rule_agrees`` says whether the selection rule (``model.head.choose``, ``SELECTION``), applied again to
    the run's table, picks the configuration the run marked as chosen."""
    from lionpoc.model.head import choose

    rows, summary = [], []
    for run in runs.itertuples():
        table = pd.read_csv(Path(run.path) / file)
        axis = decay_axis(table)
        decay = table[axis] if axis else pd.Series(0.0, index=table.index)
        initial = table["round"] == 0 if "round" in table else pd.Series(True, index=table.index)
        chosen = table["chosen"].astype(bool) if "chosen" in table else pd.Series(False, index=table.index)
        picked = int(np.flatnonzero(chosen)[0]) if chosen.any() else choose(table)
        chosen_decay = float(decay.iloc[picked])
        for i in range(len(table)):
            rows.append({"optimizer": run.optimizer, "seed": int(run.seed), "configuration": i + 1,
                         "learning_rate": float(table["learning_rate"].iloc[i]), "decay_axis": axis or "",
                         "decay": float(decay.iloc[i]), "val_accuracy": float(table["val_accuracy"].iloc[i]),
                         "val_loss": float(table["val_loss"].iloc[i]),
                         "epochs_run": int(table["epochs_run"].iloc[i]), "best_epoch": int(table["best_epoch"].iloc[i]),
                         "seconds": float(table["seconds"].iloc[i]) if "seconds" in table else np.nan,
                         "round": int(table["round"].iloc[i]) if "round" in table else 0,
                         "initial": bool(initial.iloc[i]), "chosen": i == picked,
                         "at_chosen_decay": bool(np.isclose(decay.iloc[i], chosen_decay, rtol=1e-9, atol=0.0))})
        summary.append({"optimizer": run.optimizer, "seed": int(run.seed), "configurations_tried": len(table),
                        "initial_configurations": int(initial.sum()), "extended_configurations": int((~initial).sum()),
                        "learning_rates_tried": int(table["learning_rate"].nunique()),
                        "decays_tried": int(decay.nunique()),
                        "chosen_learning_rate": float(table["learning_rate"].iloc[picked]), "decay_axis": axis or "",
                        "chosen_decay": chosen_decay, "chosen_val_accuracy": float(table["val_accuracy"].iloc[picked]),
                        "chosen_val_loss": float(table["val_loss"].iloc[picked]),
                        "rule_agrees": choose(table) == picked})
    return pd.DataFrame(rows, columns=TRIAL_COLUMNS), pd.DataFrame(summary, columns=SUMMARY_COLUMNS)


def expected_max_weights(n_values: int, n_max: int) -> np.ndarray:
    """``n_max x n_values``: row n−1 holds ``(i/N)^n − ((i−1)/N)^n`` for the sorted values i = 1..N."""
    i = np.arange(1, n_values + 1) / n_values
    n = np.arange(1, n_max + 1)[:, None]
    return i[None, :] ** n - (i[None, :] - 1 / n_values) ** n


def expected_max(values, n_max: int) -> np.ndarray:
    """Dodge et al.'s expected maximum of ``n`` = 1..``n_max`` draws from ``values`` (with replacement)."""
    v = np.sort(np.asarray(values, dtype=float))
    return expected_max_weights(len(v), n_max) @ v


def expected_best_curve(trial_table: pd.DataFrame, n_resamples: int = BAND_RESAMPLES, level: float = LEVEL,
                        seed: int = SEED) -> pd.DataFrame:
    """Per optimizer and n = 1..(most configurations any of its seeds tried): the expected best validation
    accuracy, averaged over seeds, with its bootstrap band (``CURVE_COLUMNS``)."""
    rows = []
    for name, group in trial_table.groupby("optimizer", sort=False):
        per_seed = [g["val_accuracy"].to_numpy(float) for _, g in group.groupby("seed")]
        tried = [len(v) for v in per_seed]
        n_max = max(tried)
        curve = np.mean([expected_max(v, n_max) for v in per_seed], axis=0)
        rng = np.random.default_rng(seed)
        k = len(per_seed)
        replicates = np.empty((n_resamples, k, n_max))
        for s, v in enumerate(per_seed):
            drawn = np.sort(v[rng.integers(0, len(v), size=(n_resamples, len(v)))], axis=1)
            replicates[:, s, :] = drawn @ expected_max_weights(len(v), n_max).T
        seed_counts = rng.multinomial(k, np.full(k, 1 / k), size=n_resamples)
        band = np.einsum("bs,bsn->bn", seed_counts, replicates) / k
        low, high = np.quantile(band, [(1 - level) / 2, (1 + level) / 2], axis=0)
        for n in range(n_max):
            rows.append({"optimizer": name, "n_configurations": n + 1, "expected_best_val_accuracy": float(curve[n]),
                         "low": float(low[n]), "high": float(high[n]), "n_seeds": k, "tried_mean": float(np.mean(tried)),
                         "tried_min": int(min(tried)), "tried_max": n_max, "level": level})
    return pd.DataFrame(rows, columns=CURVE_COLUMNS)
