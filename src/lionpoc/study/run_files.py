"""What a run leaves behind: the identity of its inputs, its ``metrics.json`` schema, and its files.

A seed's folder ``<results_dir>/<optimizer>/seed-<k>/`` is written whole by ``save`` (``files.atomic_dir``),
``metrics.json`` last; ``run_key`` identifies the inputs that made it, so ``is_done`` can keep a seed an
earlier study already ran with the same inputs.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from lionpoc import files
from lionpoc import machine
from lionpoc.errors import LionpocError
from lionpoc.model import backbones
from lionpoc.model import features
from lionpoc.model.bracket import Bracketing
from lionpoc.model.evaluate import Evaluation
from lionpoc.model.head import Fit
from lionpoc.study import layout
from lionpoc.study import sensitivity
from lionpoc.study.config import RunConfig
from lionpoc.study.prepared import Prepared


PRESENTATION_KEYS = ("label", "colour", "reference", "focus", "default_study", "update", "implementation")


def is_done(cfg: RunConfig, seed: int, feature_key: str) -> bool:
    """True when the seed's results exist and were made from exactly these inputs."""
    run = layout.run_dir(cfg.results_dir, cfg.optimizer, seed)
    if not layout.is_complete(run) or layout.is_damaged(run) or (cfg.sensitivity and not (run / sensitivity.FILE).is_file()):
        return False
    try:
        return files.read_json(run / "metrics.json").get("run_key") == run_key(cfg, seed, feature_key)
    except (OSError, ValueError):
        return False


def run_key(cfg: RunConfig, seed: int, feature_key: str) -> str:
    """Identity of a seed's inputs: two runs with the same key give the same numbers."""
    params = {k: v for k, v in cfg.to_params().items()
              if k not in ("results_dir", "data_dir", "cache_dir", "seeds", "force", "sensitivity", "fine_tune_seeds")}
    # Whether this seed fine-tunes, not how many seeds do: --fine-tune-seeds 5 after 3 redoes seeds 3 and 4 only.
    params["fine_tunes_this_seed"] = cfg.fine_tunes(seed)
    # How the report shows the optimizer (label, colour, ...) does not change its numbers.
    params["optimizer"] = {k: v for k, v in params["optimizer"].items() if k not in PRESENTATION_KEYS}
    # The code that trained it: a run made by other code (an edited checkout, a worker with another install)
    # is not the same run.
    payload = json.dumps({"params": params, "seed": seed, "features": feature_key,
                          "code": machine.code()["sha256"]}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def metrics(prep: Prepared, seed: int, fit: Fit, tuning: pd.DataFrame, evaluation: Evaluation,
            bracketing: Bracketing | None = None) -> dict:
    """The flat, machine-readable summary of a run (``metrics.json``)."""
    cfg = prep.cfg
    counts = prep.table["split"].value_counts()
    epochs_run = len(fit.history)
    return {
        "optimizer": cfg.optimizer, "seed": seed, "smoke": cfg.smoke,
        "learning_rate": fit.config["learning_rate"],
        "weight_decay": fit.config.get("weight_decay", 0.0), "l2": fit.config.get("l2", 0.0),
        "test_accuracy": evaluation.accuracy, "test_macro_f1": evaluation.macro_f1,
        "test_correct": int(evaluation.predictions["correct"].sum()),
        "val_accuracy": fit.val_accuracy, "val_loss": fit.val_loss,
        # The scale decay leaves the chosen head's weights at (Frobenius norm of the dense kernel, on standardised
        # features): Lion's decoupled decay and Adam's L2 shrink them differently.
        "head_kernel_norm": float(np.linalg.norm(fit.model.get_layer("breed").get_weights()[0])),
        "epochs_run": epochs_run, "best_epoch": fit.best_epoch, "stopped_early": epochs_run < cfg.epochs,
        "train_seconds": float(fit.history["seconds"].sum()),
        "seconds_per_epoch": float(fit.history["seconds"].mean()),
        "tuning_seconds": float(tuning["seconds"].sum()), "grid_size": len(cfg.grid_points()),
        **(bracketing.metrics() if bracketing is not None else {}),
        "n_train": int(counts.get("train", 0)), "n_val": int(counts.get("val", 0)),
        "n_test": int(counts.get("test", 0)),
        "data_kind": prep.kind, "data_dir": str(prep.data_dir), "weights": cfg.weights,
        "dataset": prep.dataset.key, "n_classes": prep.dataset.n_classes,
        **backbones.record(cfg.backbone, prep.features.pretrained),
        "weights_id": features.weights_id(cfg.weights), "image_size": cfg.image_size, "split": cfg.split,
        "feature_key": prep.features.key, "feature_seconds": prep.features.seconds,
        "skipped_files": prep.features.skipped, "notes": prep.notes,
        "run_key": run_key(cfg, seed, prep.features.key),
        "params": {**{k: v for k, v in cfg.to_params().items() if k not in ("seeds", "force")}, "seed": seed}, "versions": machine.versions(), "code": machine.code(),
        "machine": machine.machine(),
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def fine_tune_metrics(ft, evaluation: Evaluation) -> dict:
    """The ``ft_*`` scalars of ``metrics.json`` for a fine-tuned seed."""
    return {"ft_test_accuracy": evaluation.accuracy, "ft_test_macro_f1": evaluation.macro_f1,
            "ft_learning_rate": ft.config["learning_rate"], "ft_val_accuracy_before": ft.val_accuracy_before,
            "ft_val_accuracy": float(ft.history["val_accuracy"].iloc[ft.best_epoch - 1]),
            "ft_epochs_run": len(ft.history), "ft_best_epoch": ft.best_epoch,
            "ft_train_seconds": float(ft.history["seconds"].sum()),
            "ft_seconds_per_epoch": float(ft.history["seconds"].mean()),
            "ft_all_seconds": float(ft.tuning["seconds"].sum()), "ft_wall_seconds": ft.seconds,
            "ft_estimated_seconds": ft.estimated_seconds, "ft_trainable_parameters": ft.trainable_parameters,
            "ft_state_bytes": ft.state_bytes, "ft_peak_memory_bytes": ft.peak_memory_bytes}


def finite_or_failed(cfg: RunConfig, seed: int, fit: Fit, evaluation: Evaluation, tuned=None) -> None:
    """A run whose training diverged (a loss or a score that is not a finite number) is a failed run, never a
    result: its test accuracy would sit at chance among the others, as if the optimizer had simply lost."""
    import numpy as np

    parts = [("head", fit.history, fit.config)]
    if tuned is not None:
        parts.append(("fine-tuning", tuned[0].history, tuned[0].config))
    for what, history, config in parts:
        losses = history[[c for c in ("loss", "val_loss") if c in history]].to_numpy(dtype=float)
        bad = ~np.isfinite(losses).all(axis=1)
        if bad.any():
            first = int(history["epoch"].iloc[int(np.argmax(bad))]) if "epoch" in history else int(np.argmax(bad)) + 1
            chosen = ", ".join(f"{k} {v:g}" for k, v in config.items() if isinstance(v, (int, float)))
            raise LionpocError(
                f"{cfg.optimizer} seed {seed}: the {what} training diverged, its loss is not a finite number at "
                f"epoch {first} ({chosen}), so the run failed and nothing of it was kept; lower the learning "
                f"rates of `grid:` or check `optimizer: arguments:` in analysis/params/{cfg.optimizer}.yaml.")
    scores = [evaluation.accuracy, evaluation.macro_f1, fit.val_accuracy, fit.val_loss]
    if not all(np.isfinite(float(v)) for v in scores):
        raise LionpocError(f"{cfg.optimizer} seed {seed}: its scores are not finite numbers (validation loss "
                           f"{fit.val_loss}), so the run failed and nothing of it was kept.")


def save(prep: Prepared, seed: int, fit: Fit, tuning: pd.DataFrame, evaluation: Evaluation,
         figures: dict | None = None, log=print, tuned=None, bracketing: Bracketing | None = None,
         varied: pd.DataFrame | None = None) -> Path:
    """Write the seed's files into ``<results_dir>/<optimizer>/seed-<k>/`` and the split into ``<results_dir>``.

    The folder is written whole (``files.atomic_dir``): it is the previous run or the new one,
    never half of each; ``metrics.json`` is written last, so a folder without it is not a run.
    """
    cfg = prep.cfg
    finite_or_failed(cfg, seed, fit, evaluation, tuned)
    out = layout.run_dir(cfg.results_dir, cfg.optimizer, seed)
    files.write_csv(Path(cfg.results_dir) / "split.csv", prep.table[["file", "breed", "label", "split"]])
    with files.atomic_dir(out) as folder:
        files.write_csv(folder / "history.csv", fit.history)
        files.write_csv(folder / "tuning.csv", tuning)
        files.write_csv(folder / "predictions.csv", evaluation.predictions)
        files.write_csv(folder / "confusion.csv", evaluation.confusion, index=True)
        files.write_csv(folder / "classification_report.csv", evaluation.report, index=True)
        if varied is not None:
            files.write_csv(folder / sensitivity.FILE, varied)
        for name, figure in (figures or {}).items():
            files.save_figure(folder / f"{name}.png", figure)
        summary = metrics(prep, seed, fit, tuning, evaluation, bracketing)
        if tuned is not None:
            ft, ft_evaluation = tuned
            files.write_csv(folder / "fine_tune_history.csv", ft.history)
            files.write_csv(folder / "fine_tune_tuning.csv", ft.tuning)
            files.write_csv(folder / "fine_tune_predictions.csv", ft_evaluation.predictions)
            summary.update(fine_tune_metrics(ft, ft_evaluation))
        files.write_json(folder / "metrics.json", summary)
    log(f"results: {cfg.optimizer} seed {seed}: test accuracy {evaluation.accuracy:.3f}, "
        f"macro-F1 {evaluation.macro_f1:.3f}, written to {out}")
    return out
