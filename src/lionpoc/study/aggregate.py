"""Study-level tables computed from the runs in ``results/``: summary, paired tests, time to accuracy.

The study writes them as CSV files and the report calls the same functions, so both always agree.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from lionpoc import files
from lionpoc.study import comparisons
from lionpoc.study import costs
from lionpoc.study import layout
from lionpoc.study import predictions
from lionpoc.study import resampling
from lionpoc.study import stats
from lionpoc.study import tuning


def load_runs(results_dir: str | Path, damaged: list | None = None) -> pd.DataFrame:
    """One row per complete run, with every scalar of its ``metrics.json`` and its ``path``.

    A run whose ``metrics.json`` cannot be read is left out and named in ``damaged`` (when given):
    the study redoes it, the report says so.
    """
    rows = []
    for run in layout.find_runs(results_dir).itertuples():
        problem = layout.damage(run.path)
        if problem:
            if damaged is not None:
                damaged.append({"optimizer": run.optimizer, "seed": int(run.seed), "path": str(run.path),
                                "reason": f"{problem[0]}: {problem[1]}"})
            continue
        metrics = files.read_json(Path(run.path) / "metrics.json")
        scalars = {k: v for k, v in metrics.items() if not isinstance(v, (dict, list))}
        rows.append({**scalars, "path": str(run.path)})
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    order = {name: i for i, name in enumerate(study_order(results_dir))}
    return table.sort_values(["optimizer", "seed"], key=lambda c: c.map(lambda n: order.get(n, len(order)))
                             if c.name == "optimizer" else c, ignore_index=True)


def study_order(results_dir: str | Path) -> list[str]:
    """The study's optimizers in its own order (``study.json``); without a record, none (then by name)."""
    try:
        record = files.read_json(Path(results_dir) / "study.json")
        return [str(n) for n in record.get("optimizers", [])]
    except (OSError, ValueError, AttributeError):
        return []


def summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Per optimizer: test accuracy (mean, sd over seeds, 95 % interval over test images), macro-F1
    (mean, sd), epochs and times.

    The accuracy's interval is a percentile bootstrap over the test images of the seed-averaged
    correctness: it stays within [0, 1] and measures what limits the study, the few hundred test
    images (a Student interval over two or three seeds can spill past 100 %).
    """
    rows = []
    for name, group in runs.groupby("optimizer", sort=False):
        row = {"optimizer": name, "n_seeds": len(group), "n_test": int(group["n_test"].iloc[0])}
        for metric in ("test_accuracy", "test_macro_f1"):
            mean, sd, _, _ = stats.mean_ci(group[metric])
            row.update({f"{metric}_mean": mean, f"{metric}_sd": sd})
        low, high = stats.bootstrap_mean_ci(correctness(runs, name).T.to_numpy())
        row.update({"test_accuracy_ci_low": low, "test_accuracy_ci_high": high})
        for column in ("epochs_run", "best_epoch", "train_seconds", "seconds_per_epoch", "tuning_seconds"):
            row[column] = float(group[column].mean())
        for column in ("learning_rate", "weight_decay", "l2"):
            row[column] = _mode(group[column])
        rows.append(row)
    return pd.DataFrame(rows)


def correctness(runs: pd.DataFrame, optimizer: str, file: str = "predictions.csv") -> pd.DataFrame:
    """Test images (rows, by file) x seeds (columns): 1 where the run classified the image right."""
    return predictions.per_image(runs, optimizer, "correct", file)


RESAMPLES = resampling.RESAMPLES  # bootstrap resamples of every interval of a paired difference
PERMUTATIONS = comparisons.PERMUTATIONS  # random sign sets of the loss test (accuracy's test is exact)
PAIR_COLUMNS = comparisons.PAIR_COLUMNS
PAIR_SEED_COLUMNS = comparisons.PAIR_SEED_COLUMNS


def pairs(runs: pd.DataFrame, n_resamples: int = RESAMPLES, file: str = "predictions.csv",
          focus: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Paired comparisons of optimizers on the same test images (``comparisons.accuracy_pairs``).

    Returns (per pair, per pair and seed). Per pair, every number uses all shared seeds: the accuracy
    difference averaged over seeds, its intervals over images, seeds and both (each saying what it covers),
    the exact sign-flip test and its Holm-adjusted p within its family, the resolution (images that differ,
    smallest reachable p) and the minimum detectable difference. Per seed, McNemar's exact test with its
    discordant counts. With one optimizer (or no shared seed) there is nothing to pair: empty tables that
    still have their columns.
    """
    found = comparisons.accuracy_pairs(runs, focus, file, n_resamples)
    return found["pairs"], found["by_seed"]


TARGETS = (0.95, 0.99)  # time to accuracy: fractions of the best validation accuracy of any optimizer, per seed


def time_to_accuracy_runs(runs: pd.DataFrame, fractions=TARGETS, file: str = "history.csv") -> pd.DataFrame:
    """One row per run: epochs until validation accuracy first reaches each common target (NaN: never),
    ``reached_<tag>`` (0/1), the target, its seconds per epoch and best validation accuracy (see
    ``time_to_accuracy``)."""
    histories = {(run.optimizer, run.seed): pd.read_csv(Path(run.path) / file) for run in runs.itertuples()}
    if not histories:
        return pd.DataFrame()
    best = {}
    for (name, seed), history in histories.items():
        best[seed] = max(best.get(seed, 0.0), float(history["val_accuracy"].max()))
    rows = []
    for (name, seed), history in histories.items():
        row = {"optimizer": name, "seed": seed, "seconds_per_epoch": float(history["seconds"].mean()),
               "best_val_accuracy": float(history["val_accuracy"].max())}
        for fraction in fractions:
            tag = int(round(fraction * 100))
            target = fraction * best[seed]
            reached = np.flatnonzero(history["val_accuracy"].to_numpy() >= target - 1e-12)
            row.update({f"target_{tag}": target, f"reached_{tag}": int(len(reached) > 0),
                        f"epochs_to_{tag}": float(reached[0] + 1) if len(reached) else math.nan})
        rows.append(row)
    return pd.DataFrame(rows)


def time_to_accuracy(runs: pd.DataFrame, fractions=TARGETS, file: str = "history.csv") -> pd.DataFrame:
    """Per optimizer: epochs until validation accuracy first reaches common targets, and seconds per epoch.

    The targets are the same for every optimizer of a seed: ``fraction`` x the best validation accuracy
    that *any* optimizer reached in that seed (with its own best, each optimizer would chase a different
    bar and the table could not say which one gets there sooner). An optimizer that never reaches a target
    in a seed counts in ``reached_<tag>`` and not in the mean of ``epochs_to_<tag>`` (NaN when it never
    does). ``target_<tag>`` is the target's mean over seeds.
    """
    per_run = time_to_accuracy_runs(runs, fractions, file)
    if per_run.empty:
        return per_run
    sums = [f"reached_{int(round(f * 100))}" for f in fractions]
    table = per_run.drop(columns="seed").groupby("optimizer", sort=False)
    out = table.mean()  # NaN (never reached) left out of each mean
    out[sums] = table[sums].sum()
    for fraction in fractions:  # the median too: one slow seed can carry a mean of a few epochs
        tag = int(round(fraction * 100))
        out[f"epochs_to_{tag}_median"] = table[f"epochs_to_{tag}"].median()
    out["n_seeds"] = table.size()
    return out.reset_index()


def missing(results_dir: str | Path, optimizers) -> list[str]:
    """Optimizers without any complete run in ``results_dir``."""
    found = set(layout.find_runs(results_dir)["optimizer"])
    return [name for name in optimizers if name not in found]


# The study-level tables, by file name: computed from the runs present, never edited.
TABLE_FILES = ("summary.csv", "runs.csv", "pairs.csv", "pairs_by_seed.csv", "intervals.csv", "power.csv",
               "calibration.csv", "calibration_pairs.csv", "tuning_trials.csv", "tuning_runs.csv", "tuning_rule.csv",
               "expected_best.csv", "time_to_accuracy.csv", "costs.csv", "fine_tune_summary.csv",
               "fine_tune_pairs.csv", "fine_tune_time_to_accuracy.csv", "fine_tune_calibration.csv",
               "fine_tune_calibration_pairs.csv")


def study_focus(runs: pd.DataFrame) -> str | None:
    """The focus the study recorded (``study.json`` beside the runs), if it is one of the runs' optimizers."""
    if runs.empty or "path" not in runs:
        return None
    try:
        focus = files.read_json(Path(runs["path"].iloc[0]).parents[1] / "study.json").get("focus")
    except (OSError, ValueError, AttributeError):
        return None
    return focus if focus in set(runs["optimizer"]) else None


def _folder_csv(runs: pd.DataFrame, name: str) -> pd.DataFrame | None:
    """A file the study wrote beside the runs (``memory.csv``, ``timing.csv``), or None."""
    if runs.empty or "path" not in runs:
        return None
    path = Path(runs["path"].iloc[0]).parents[1] / name
    try:
        return pd.read_csv(path) if path.is_file() else None
    except (OSError, ValueError, pd.errors.EmptyDataError):
        return None


def tables(runs: pd.DataFrame, focus: str | None = None) -> dict[str, pd.DataFrame]:
    """Every study-level table of ``runs`` (as ``load_runs`` gives them), by file name; the fine-tuning
    tables only when some runs were fine-tuned. ``focus`` (default: the one ``study.json`` records) orients
    and groups the paired comparisons. The study writes them; the report computes them again from the runs
    it finds, so a run removed, redone or added by hand never leaves a table describing other runs."""
    focus = focus or study_focus(runs)
    accuracy = comparisons.accuracy_pairs(runs, focus)
    calibration = comparisons.calibration_pairs(runs, focus)
    trials, per_run = tuning.trials(runs)
    reach = time_to_accuracy_runs(runs)
    found = {"summary.csv": summary(runs), "runs.csv": runs.drop(columns="path"), "pairs.csv": accuracy["pairs"],
             "pairs_by_seed.csv": accuracy["by_seed"],
             "intervals.csv": pd.concat([accuracy["intervals"], calibration["intervals"]], ignore_index=True),
             "power.csv": pd.concat([accuracy["power"], calibration["power"]], ignore_index=True),
             "calibration.csv": comparisons.calibration(runs), "calibration_pairs.csv": calibration["pairs"],
             "tuning_trials.csv": trials, "tuning_runs.csv": per_run, "tuning_rule.csv": tuning.selection_rule(),
             "expected_best.csv": tuning.expected_best_curve(trials), "time_to_accuracy.csv": time_to_accuracy(runs),
             "costs.csv": costs.table(reach, _folder_csv(runs, "memory.csv"), _folder_csv(runs, "timing.csv"), focus)}
    tuned = runs[runs["ft_test_accuracy"].notna()] if "ft_test_accuracy" in runs else runs.iloc[0:0]
    if not tuned.empty:
        found["fine_tune_summary.csv"] = fine_tune_summary(tuned)
        found["fine_tune_pairs.csv"] = pairs(tuned, file="fine_tune_predictions.csv", focus=focus)[0]
        found["fine_tune_time_to_accuracy.csv"] = time_to_accuracy(tuned, file="fine_tune_history.csv")
        found["fine_tune_calibration.csv"] = comparisons.calibration(tuned, file="fine_tune_predictions.csv",
                                                                        norm_column=None)
        found["fine_tune_calibration_pairs.csv"] = comparisons.calibration_pairs(
            tuned, focus, file="fine_tune_predictions.csv")["pairs"]
    return found


def write_tables(results_dir: str | Path, focus: str | None = None) -> pd.DataFrame:
    """Write the study-level tables (``TABLE_FILES``) of the runs in ``results_dir``; return the summary."""
    results_dir = Path(results_dir)
    found = tables(load_runs(results_dir), focus)
    for name in TABLE_FILES:
        if name in found:
            files.write_csv(results_dir / name, found[name])
        else:
            (results_dir / name).unlink(missing_ok=True)
    return found["summary.csv"]


def fine_tune_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Per optimizer, over its fine-tuned seeds: test accuracy before (head alone) and after fine-tuning,
    with the after's interval over test images; epochs, seconds per epoch, state bytes, peak memory."""
    rows = []
    for name, group in runs.groupby("optimizer", sort=False):
        low, high = stats.bootstrap_mean_ci(correctness(runs, name, "fine_tune_predictions.csv").T.to_numpy())
        before_low, before_high = stats.bootstrap_mean_ci(correctness(runs, name).T.to_numpy())
        rows.append({"optimizer": name, "n_seeds": len(group),
                     "before_mean": float(group["test_accuracy"].mean()), "before_ci_low": before_low,
                     "before_ci_high": before_high,
                     "after_mean": float(group["ft_test_accuracy"].mean()),
                     "after_sd": float(group["ft_test_accuracy"].std(ddof=1)) if len(group) > 1 else math.nan,
                     "after_ci_low": low, "after_ci_high": high,
                     "after_macro_f1": float(group["ft_test_macro_f1"].mean()),
                     "val_before": float(group["ft_val_accuracy_before"].mean()),
                     "val_after": float(group["ft_val_accuracy"].mean()),
                     "learning_rate": _mode(group["ft_learning_rate"]),
                     "epochs_run": float(group["ft_epochs_run"].mean()),
                     "best_epoch": float(group["ft_best_epoch"].mean()),
                     "seconds_per_epoch": float(group["ft_seconds_per_epoch"].mean()),
                     "train_seconds": float(group["ft_train_seconds"].mean()),
                     "wall_seconds": float(group["ft_wall_seconds"].mean()),
                     "estimated_seconds": float(group["ft_estimated_seconds"].mean()),
                     "trainable_parameters": int(group["ft_trainable_parameters"].iloc[0]),
                     "state_bytes": int(group["ft_state_bytes"].iloc[0]),
                     "peak_memory_bytes": int(group["ft_peak_memory_bytes"].max())})
    return pd.DataFrame(rows)


def _mode(values: pd.Series) -> float:
    """The most frequent value (ties: the first met). Where the seeds chose different rates it stands for none of
    the others: the report shows each seed's choice (``ReportData.chosen_fine_tune_rates``), not this."""
    counts = values.value_counts()
    return float(counts.index[0]) if len(counts) else math.nan
