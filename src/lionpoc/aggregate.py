"""Study-level tables computed from the runs in ``results/``: summary, paired tests, time to accuracy.

The study writes them as CSV files and the report calls the same functions, so both always agree.
"""
from __future__ import annotations

import math
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

from . import results, stats
from .config import OPTIMIZERS


def load_runs(results_dir: str | Path) -> pd.DataFrame:
    """One row per complete run, with every scalar of its ``metrics.json`` and its ``path``."""
    rows = []
    for run in results.find_runs(results_dir).itertuples():
        metrics = results.read_json(Path(run.path) / "metrics.json")
        scalars = {k: v for k, v in metrics.items() if not isinstance(v, (dict, list))}
        rows.append({**scalars, "path": str(run.path)})
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    order = {name: i for i, name in enumerate(OPTIMIZERS)}
    return table.sort_values(["optimizer", "seed"], key=lambda c: c.map(order) if c.name == "optimizer" else c,
                             ignore_index=True)


def summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Per optimizer: test accuracy and macro-F1 (mean, sd, 95 % CI over seeds), epochs and times."""
    rows = []
    for name, group in runs.groupby("optimizer", sort=False):
        row = {"optimizer": name, "n_seeds": len(group), "n_test": int(group["n_test"].iloc[0])}
        for metric in ("test_accuracy", "test_macro_f1"):
            mean, sd, low, high = stats.mean_ci(group[metric])
            row.update({f"{metric}_mean": mean, f"{metric}_sd": sd, f"{metric}_ci_low": low, f"{metric}_ci_high": high})
        for column in ("epochs_run", "best_epoch", "train_seconds", "seconds_per_epoch", "tuning_seconds"):
            row[column] = float(group[column].mean())
        for column in ("learning_rate", "weight_decay", "l2"):
            row[column] = _mode(group[column])
        rows.append(row)
    return pd.DataFrame(rows)


def correctness(runs: pd.DataFrame, optimizer: str) -> pd.DataFrame:
    """Test images (rows, by file) x seeds (columns): 1 where the run classified the image right."""
    columns = {}
    for run in runs[runs["optimizer"] == optimizer].itertuples():
        predictions = pd.read_csv(Path(run.path) / "predictions.csv", index_col="file")
        columns[int(run.seed)] = predictions["correct"]
    return pd.DataFrame(columns).sort_index()


def pairs(runs: pd.DataFrame, n_resamples: int = 10_000) -> pd.DataFrame:
    """For each pair of optimizers: accuracy difference, paired bootstrap CI, McNemar per shared seed."""
    rows = []
    names = list(dict.fromkeys(runs["optimizer"]))
    for a, b in combinations(names, 2):
        ca, cb = correctness(runs, a), correctness(runs, b)
        seeds = sorted(set(ca.columns) & set(cb.columns))
        if not seeds or not ca.index.equals(cb.index):
            continue
        diff, low, high = stats.bootstrap_diff_ci(ca[seeds].T.to_numpy(), cb[seeds].T.to_numpy(), n_resamples)
        tests = [stats.mcnemar_exact(ca[s], cb[s]) for s in seeds]
        first = tests[0]
        rows.append({"a": a, "b": b, "n_seeds": len(seeds), "n_test": len(ca), "diff_accuracy": diff,
                     "ci_low": low, "ci_high": high, "b_only_a": first["b"], "c_only_b": first["c"],
                     "p_value": first["p_value"], "p_value_max": max(t["p_value"] for t in tests),
                     "significant_seeds": sum(t["p_value"] < 0.05 for t in tests)})
    return pd.DataFrame(rows)


def time_to_accuracy(runs: pd.DataFrame, fractions=(0.95, 0.99)) -> pd.DataFrame:
    """Per optimizer (mean over seeds): epochs and seconds until validation accuracy first reaches
    95 % and 99 % of its best value, and seconds per epoch."""
    rows = []
    for run in runs.itertuples():
        history = pd.read_csv(Path(run.path) / "history.csv")
        elapsed = history["seconds"].cumsum().to_numpy()
        row = {"optimizer": run.optimizer, "seed": run.seed, "seconds_per_epoch": history["seconds"].mean(),
               "best_val_accuracy": history["val_accuracy"].max()}
        for fraction in fractions:
            epoch = stats.first_reach(history["val_accuracy"], fraction)
            tag = int(round(fraction * 100))
            row.update({f"epochs_to_{tag}": epoch, f"seconds_to_{tag}": float(elapsed[epoch - 1])})
        rows.append(row)
    per_run = pd.DataFrame(rows)
    if per_run.empty:
        return per_run
    return per_run.drop(columns="seed").groupby("optimizer", sort=False).mean().reset_index()


def missing(results_dir: str | Path, optimizers=OPTIMIZERS) -> list[str]:
    """Optimizers without any complete run in ``results_dir``."""
    found = set(results.find_runs(results_dir)["optimizer"])
    return [name for name in optimizers if name not in found]


def write_tables(results_dir: str | Path) -> pd.DataFrame:
    """Write ``summary.csv``, ``runs.csv``, ``pairs.csv`` and ``time_to_accuracy.csv``; return the summary."""
    results_dir = Path(results_dir)
    runs = load_runs(results_dir)
    table = summary(runs)
    results.write_csv(results_dir / "summary.csv", table)
    results.write_csv(results_dir / "runs.csv", runs.drop(columns="path"))
    results.write_csv(results_dir / "pairs.csv", pairs(runs))
    results.write_csv(results_dir / "time_to_accuracy.csv", time_to_accuracy(runs))
    return table


def _mode(values: pd.Series) -> float:
    counts = values.value_counts()
    return float(counts.index[0]) if len(counts) else math.nan
