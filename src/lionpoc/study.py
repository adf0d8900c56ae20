"""The whole study in one call: features once, papermill per optimizer and seed, tables, report."""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from . import aggregate, baseline, data, experiment, memory, paths, render, results
from .config import OPTIMIZERS, RunConfig
from .errors import LionpocError

TEMPLATE = Path("analysis/train.ipynb")
PARAMS_DIR = Path("analysis/params")


def run_configs(optimizers, seeds, overrides: dict, root: Path) -> list[RunConfig]:
    """One validated configuration per (optimizer, seed), from ``analysis/params/<optimizer>.yaml``."""
    unknown = [name for name in optimizers if name not in OPTIMIZERS]
    if unknown:
        raise LionpocError(f"unknown optimizer(s) {', '.join(unknown)}; valid optimizers are: {', '.join(OPTIMIZERS)}.")
    return [RunConfig.from_yaml(root / PARAMS_DIR / f"{name}.yaml", **overrides, seed=seed)
            for name in optimizers for seed in seeds]


def ensure_writable(folder: Path) -> None:
    """Fail before any work when the results folder cannot be written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise LionpocError(f"the results folder {folder} is not writable ({exc.strerror or exc}); "
                           "pass --results-dir with a folder you can write to.") from None


def guard_results(results_dir: Path, smoke: bool, log=print) -> None:
    """A smoke run never overwrites a real study; a real study replaces old smoke results."""
    runs = aggregate.load_runs(results_dir) if results_dir.is_dir() else None
    if runs is None or runs.empty:
        return
    if smoke and not runs["smoke"].all():
        raise LionpocError(f"{results_dir} holds the results of a real study; a smoke run will not overwrite them: "
                           "pass --results-dir to write the smoke results elsewhere (e.g. results-smoke).")
    if not smoke and runs["smoke"].any():
        log(f"study: removing the smoke results in {results_dir} before the real study")
        for run in runs.loc[runs["smoke"].astype(bool), "path"]:
            shutil.rmtree(run, ignore_errors=True)


def execute(cfg: RunConfig, root: Path, log=print) -> Path:
    """Run the notebook template with papermill for one configuration; move it in place only if it succeeds."""
    import papermill as pm

    out = results.run_dir(cfg.results_dir, cfg.optimizer, cfg.seed)
    out.mkdir(parents=True, exist_ok=True)
    partial = out / "training.partial.ipynb"
    try:
        pm.execute_notebook(str(root / TEMPLATE), str(partial), parameters=cfg.to_params(), cwd=str(root),
                            kernel_name="python3", progress_bar=False, log_output=False)
    except pm.PapermillExecutionError as exc:
        failed = out / "training.failed.ipynb"
        partial.replace(failed)
        raise LionpocError(f"the {cfg.optimizer} run (seed {cfg.seed}) failed in cell {exc.exec_count}: "
                           f"{exc.ename}: {exc.evalue} (executed notebook: {failed}).") from None
    partial.replace(out / "training.ipynb")
    (out / "training.failed.ipynb").unlink(missing_ok=True)
    export_html(out / "training.ipynb")
    return out


def export_html(notebook: Path) -> Path:
    """An HTML copy of an executed notebook, readable in a browser without Jupyter."""
    import nbformat
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nbformat.read(notebook, as_version=4))
    return results.atomic_write_text(notebook.with_suffix(".html"), body)


def is_done(cfg: RunConfig, feature_key: str) -> bool:
    """True when the run's results exist and were made from exactly these inputs."""
    run = results.run_dir(cfg.results_dir, cfg.optimizer, cfg.seed)
    if not results.is_complete(run):
        return False
    try:
        return results.read_json(run / "metrics.json").get("run_key") == experiment.run_key(cfg, feature_key)
    except (OSError, ValueError):
        return False


def run_study(optimizers=OPTIMIZERS, seeds: int | None = None, smoke: bool = False, data_dir=None,
              results_dir=None, weights: str | None = None, image_size: int | None = None, split: str = "random",
              force: bool = False, render_report: bool = True, cache_dir=None, log=print) -> Path:
    """Run (or resume) the study; return the results folder.

    Finished runs whose inputs have not changed are kept, so an interrupted study resumes where
    it stopped; the feature cache is shared by every run.
    """
    root = paths.project_root()
    results_dir = paths.results_dir(results_dir, root)
    seeds = seeds if seeds is not None else (1 if smoke else 3)
    if seeds < 1:
        raise LionpocError(f"--seeds must be at least 1, got {seeds}.")
    cache_dir = Path(cache_dir).resolve() if cache_dir else root / "data" / "processed"
    overrides = {"smoke": smoke, "results_dir": str(results_dir), "cache_dir": str(cache_dir),
                 "split": split, "data_dir": str(Path(data_dir).resolve()) if data_dir else None}
    overrides.update({k: v for k, v in (("weights", weights), ("image_size", image_size)) if v is not None})
    if overrides["data_dir"] is None and not smoke:
        default = data.resolve_data_dir()  # $LIONPOC_DATA, or data/raw/stanford_dogs under the project
        overrides["data_dir"] = str(default if default.is_absolute() else root / default)
    configs = run_configs(optimizers, range(seeds), overrides, root)
    ensure_writable(results_dir)
    guard_results(results_dir, smoke, log)
    timings = {}

    start = time.perf_counter()
    previous = Path.cwd()
    os.chdir(root)  # the synthetic set and the cache live under the project, whatever the caller's cwd
    try:
        prep = experiment.prepare(configs[0], log)
        results.write_csv(results_dir / "split.csv", prep.table[["file", "breed", "label", "split"]])
        timings["features_seconds"] = time.perf_counter() - start
        for i, cfg in enumerate(configs, 1):
            label = f"[{i}/{len(configs)}] {cfg.optimizer} seed {cfg.seed}"
            if not force and is_done(cfg, prep.features.key):
                log(f"{label}: already done with the same inputs, kept")
                continue
            log(f"{label}: running {TEMPLATE} with papermill ({len(cfg.grid_points())} configurations)...")
            t0 = time.perf_counter()
            execute(cfg, root, log)
            timings[f"{cfg.optimizer}_seconds"] = timings.get(f"{cfg.optimizer}_seconds", 0.0) + time.perf_counter() - t0
            metrics = results.read_json(results.run_dir(results_dir, cfg.optimizer, cfg.seed) / "metrics.json")
            log(f"{label}: test accuracy {metrics['test_accuracy']:.3f} in {time.perf_counter() - t0:.0f} s")
        table = aggregate.write_tables(results_dir)
        log("study: summary\n" + table[["optimizer", "n_seeds", "test_accuracy_mean", "test_macro_f1_mean",
                                         "epochs_run", "seconds_per_epoch"]].to_string(index=False))
        results.write_csv(results_dir / "memory.csv", memory.optimizer_memory())
        test_rows = prep.table[prep.table["split"] == "test"]
        results.write_json(results_dir / "baseline.json",
                           baseline.zero_training_accuracy(test_rows, data.images_root(prep.data_dir),
                                                           configs[0].weights))
    finally:
        os.chdir(previous)
    log(f"study: results in {results_dir} ({time.perf_counter() - start:.0f} s)")
    if render_report:
        t0 = time.perf_counter()
        if render.render_or_explain(results_dir, log):
            timings["render_seconds"] = time.perf_counter() - t0
    results.write_json(results_dir / "study.json", {"optimizers": list(optimizers), "seeds": seeds, "smoke": smoke,
                                                    "timings": timings})
    return results_dir
