"""The whole study in one call: checks, features once, one notebook execution per optimizer, tables, report.

Order matters for safety: every input is checked before anything in the results folder changes,
and a real study removes old smoke results only after its own feature pass has succeeded.
``results/study.json`` records how long each step took, for the report's performance section.
"""
from __future__ import annotations

import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from lionpoc.study import aggregate
from lionpoc.study import checks
from lionpoc.model import baseline
from lionpoc import data
from lionpoc.study import execute
from lionpoc.study import runs
from lionpoc import machine
from lionpoc.model import memory
from lionpoc.study import layout
from lionpoc.report import render
from lionpoc import files
from lionpoc.study.config import GRID_AXES, OPTIMIZERS, RunConfig, read_param_file
from lionpoc.errors import LionpocError

PARAMS_DIR = Path("analysis/params")
# Set once the study starts writing into its results folder (after every check and the feature pass):
# before that, a failure leaves the folder exactly as it was, logs included.
writes = {"started": False}
# Study-level files: they describe the runs in the folder, so they go when those runs go.
STUDY_FILES = ("split.csv", "summary.csv", "runs.csv", "pairs.csv", "pairs_by_seed.csv", "time_to_accuracy.csv",
               "memory.csv", "baseline.json", "study.json")


def run_configs(optimizers, seeds: int, overrides: dict, root: Path) -> list[RunConfig]:
    """One validated configuration per optimizer (all seeds), from ``analysis/params/<optimizer>.yaml``."""
    unknown = [name for name in optimizers if name not in OPTIMIZERS]
    if unknown:
        raise LionpocError(f"unknown optimizer(s) {', '.join(unknown)}; valid optimizers are: {', '.join(OPTIMIZERS)}.")
    configs = []
    for name in optimizers:
        path = root / PARAMS_DIR / f"{name}.yaml"
        params = {**read_param_file(path), **overrides, "seeds": list(range(seeds))}
        if params.get("optimizer", name) != name:
            raise LionpocError(f"{path}: optimizer is {params['optimizer']!r} but the file is named for {name!r}; "
                               f"set `optimizer: {name}` in it.")
        configs.append(RunConfig.from_params(params, source=str(path)))
    return configs


def ensure_writable(folder: Path) -> None:
    """Fail before any work when the results folder cannot be written; leave nothing behind."""
    created = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-test"
        try:
            with open(probe, "w") as handle:
                handle.write("ok")
        finally:
            probe.unlink(missing_ok=True)
    except OSError as exc:
        if created:
            shutil.rmtree(folder, ignore_errors=True)
        raise LionpocError(f"the results folder {folder} is not writable ({exc.strerror or exc}); "
                           "pass --results-dir with a folder you can write to.") from None


def existing_runs(results_dir: Path):
    return aggregate.load_runs(results_dir) if results_dir.is_dir() else None


def check_smoke_guard(results_dir: Path, smoke: bool) -> bool:
    """A smoke run never overwrites a real study. Returns True when old smoke results will be replaced."""
    runs = existing_runs(results_dir)
    if runs is None or runs.empty:
        return False
    if smoke and not runs["smoke"].all():
        raise LionpocError(f"{results_dir} holds the results of a real study; a smoke run will not overwrite them: "
                           "pass --results-dir to write the smoke results elsewhere (e.g. results-smoke).")
    return not smoke and bool(runs["smoke"].any())


def remove_smoke_results(results_dir: Path, log=print) -> None:
    """Remove every smoke run, notebook and study table (called once the real study has its features)."""
    log(f"study: removing the smoke results in {results_dir}, replaced by this real study")
    for name in OPTIMIZERS:
        shutil.rmtree(results_dir / name, ignore_errors=True)
    for name in STUDY_FILES:
        (results_dir / name).unlink(missing_ok=True)


def check_inputs(configs: list[RunConfig], log=print) -> None:
    """Everything that can be checked before the slow feature pass: data, split, weights files."""
    from lionpoc.model import features

    cfg = configs[0]
    if cfg.smoke and not cfg.data_dir:
        return  # the synthetic set is made on demand and always splits
    data_dir = data.resolve_data_dir(cfg.data_dir)
    if not data_dir.exists():
        from lionpoc.data.download import download_dataset

        log(f"data: {data_dir} does not exist; downloading the official Stanford Dogs archive into it "
            "(about 790 MB, resumable)")
        try:
            download_dataset(data_dir)
        except LionpocError as exc:
            raise LionpocError(f"data directory {data_dir} does not exist and could not be downloaded: {exc}") from None
    table, _ = data.list_images(data_dir)
    data.make_split(table, cfg.split, data_dir, (cfg.train_fraction, cfg.val_fraction, cfg.test_fraction),
                    cfg.split_seed)
    features.check_weights(cfg.weights)
    if cfg.weights == "imagenet" and not features.imagenet_file_available(baseline.CLASSIFIER_FILE):
        log(f"note: the zero-training baseline needs {baseline.CLASSIFIER_FILE} (Xception with its ImageNet "
            "classifier), which is neither cached nor downloadable here: it will be skipped, the report says how "
            "to get it")


def run_study(optimizers=OPTIMIZERS, seeds: int | None = None, smoke: bool = False, data_dir=None,
              results_dir=None, weights: str | None = None, image_size: int | None = None, split: str = "random",
              force: bool = False, render_report: bool = True, cache_dir=None, jobs: int | None = None,
              fine_tune: bool = False, fine_tune_epochs: int | None = None, log=print) -> Path:
    """Run (or resume) the study; return the results folder.

    Finished seeds whose inputs have not changed are kept, so an interrupted study resumes where
    it stopped; the feature cache is shared by every run.
    """
    started = time.perf_counter()
    root = layout.project_root()
    results_dir = layout.results_dir(results_dir, root)
    seeds = seeds if seeds is not None else (1 if smoke else 3)
    if seeds < 1:
        raise LionpocError(f"--seeds must be at least 1, got {seeds}.")
    cache_dir = Path(cache_dir).resolve() if cache_dir else root / "data" / "processed"
    overrides = {"smoke": smoke, "results_dir": str(results_dir), "cache_dir": str(cache_dir), "force": force,
                 "split": split, "data_dir": str(Path(data_dir).resolve()) if data_dir else None}
    overrides.update({k: v for k, v in (("weights", weights), ("image_size", image_size),
                                        ("fine_tune_epochs", fine_tune_epochs)) if v is not None})
    if fine_tune_epochs is not None and not fine_tune:
        raise LionpocError("--fine-tune-epochs needs --fine-tune.")
    overrides["fine_tune"] = fine_tune
    if overrides["data_dir"] is None and not smoke:
        default = data.resolve_data_dir()  # $LIONPOC_DATA, or data/raw/stanford_dogs under the project
        overrides["data_dir"] = str(default if default.is_absolute() else root / default)
    if jobs is not None and jobs < 1:
        raise LionpocError(f"--jobs must be at least 1, got {jobs}.")
    configs = run_configs(optimizers, seeds, overrides, root)
    # All executions at once, even past the core count: each kernel is single-threaded for most of an
    # epoch, so three kernels on two cores finish sooner than two, then one (measured: 76 s vs 107 s).
    # With fine-tuning, one execution at a time with every core: fine-tuning dominates, runs as fast
    # alone with all threads as shared, and its printed estimate (measured here, all threads) then holds.
    # Except in a smoke study, which is there to check the chain quickly: all at once (95 s instead of
    # 139 s here, same numbers; each notebook's own estimate is measured under the same sharing).
    jobs = jobs or (1 if fine_tune and not smoke else len(configs))
    checks.outside_sources(results_dir, root)
    lock = checks.lock_results(results_dir)  # noqa: F841 - held until the study returns
    replaces_smoke = check_smoke_guard(results_dir, smoke)
    if not replaces_smoke:  # the runs this study keeps beside its own must share its inputs
        checks.others_share_inputs(configs, results_dir)
    previous = Path.cwd()
    created = not results_dir.exists()
    os.chdir(root)  # the synthetic set and the cache live under the project, whatever the caller's cwd
    try:
        ensure_writable(results_dir)
        check_inputs(configs, log)
        timings = {"started_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        t0 = time.perf_counter()
        prep = runs.prepare(configs[0], log)  # the one Xception pass (or the cache)
        timings["features_seconds"] = time.perf_counter() - t0
        timings["features_from_cache"] = prep.features.from_cache
        timings["features_extraction_seconds"] = prep.features.seconds
        if not replaces_smoke:
            checks.others_share_inputs(configs, results_dir, prep.features.key)
        writes["started"] = True
        if replaces_smoke:
            remove_smoke_results(results_dir, log)
        files.write_csv(results_dir / "split.csv", prep.table[["file", "breed", "label", "split"]])
        if configs[0].fine_tune:
            timings["fine_tune_estimate"] = announce_fine_tuning(configs, prep, jobs, log)
        timings["executions"] = run_executions(configs, prep, root, jobs, log)
        t0 = time.perf_counter()
        table = aggregate.write_tables(results_dir)
        files.write_csv(results_dir / "memory.csv", memory.optimizer_memory())
        test_rows = prep.table[prep.table["split"] == "test"]
        files.write_json(results_dir / "baseline.json",
                           baseline.zero_training_accuracy(test_rows, data.images_root(prep.data_dir),
                                                           configs[0].weights))
        timings["aggregate_seconds"] = time.perf_counter() - t0
    except BaseException:
        if created and not writes["started"]:  # a study that fails at its checks leaves no empty folder
            shutil.rmtree(results_dir, ignore_errors=True)
        raise
    finally:
        os.chdir(previous)
    log("study: summary\n" + table[["optimizer", "n_seeds", "test_accuracy_mean", "test_macro_f1_mean",
                                     "epochs_run"]].to_string(index=False))
    record = study_record(configs, prep, timings, jobs, started)
    files.write_json(results_dir / "study.json", record)
    log(f"study: results in {results_dir} ({record['total_seconds']:.0f} s before the report)")
    if render_report:
        t0 = time.perf_counter()
        if render.render_or_explain(results_dir, log):
            record["render_seconds"] = time.perf_counter() - t0
            record["total_seconds"] = time.perf_counter() - started
            files.write_json(results_dir / "study.json", record)
    return results_dir


def announce_fine_tuning(configs: list[RunConfig], prep, jobs: int, log=print) -> dict:
    """Measure one fine-tuning epoch here, then print the budget and the time it should take."""
    from lionpoc.model import finetune

    cfg = configs[0]
    todo = sum(1 for c in configs for s in c.seeds if c.force or not runs.is_done(c, s, prep.features.key))
    if not todo:
        return {}
    per_epoch, start_cost, set_up = finetune.probe(prep)
    configurations = len(finetune.LR_FACTORS)
    per_seed = set_up + per_epoch * configurations * cfg.fine_tune_epochs + start_cost * configurations
    total = per_seed * todo
    epochs = f"{cfg.fine_tune_epochs} epoch" + ("s" if cfg.fine_tune_epochs > 1 else "")
    log(f"fine-tuning: budget {configurations} learning rates x at most {epochs} for each of "
        f"{todo} (optimizer, seed) pair(s); one epoch of block 14 + head over {int((prep.table['split'] == 'train').sum())} "
        f"images takes {per_epoch:.1f} s on this machine (measured now), so at most {per_seed:.0f} s per pair and "
        f"{total:.0f} s in all ({total / 60:.1f} min)" + ("" if jobs == 1 else
        f"; with {jobs} executions sharing the cores, each takes longer than measured here"))
    return {"seconds_per_epoch": per_epoch, "per_seed_seconds": per_seed, "total_seconds": total, "pairs": todo}


def run_executions(configs: list[RunConfig], prep, root: Path, jobs: int, log=print) -> list[dict]:
    """One papermill execution per optimizer that has seeds to (re)do, ``jobs`` at a time."""
    todo = []
    for cfg in configs:
        for note in checks.redo_notes(cfg, prep.features.key):  # why a run done before is done again
            log(note)
        if not cfg.force and all(runs.is_done(cfg, s, prep.features.key) for s in cfg.seeds):
            log(f"{cfg.optimizer}: all {len(cfg.seeds)} seed(s) already done with the same inputs, kept")
        else:
            todo.append(cfg)
    threads = max(1, (os.cpu_count() or 1) // jobs) if jobs > 1 else None
    if todo:
        log(f"study: {len(todo)} notebook execution(s) of {execute.TEMPLATE} with papermill, {jobs} at a time")

    def one(cfg):
        notebook, seconds = execute.execute(cfg, root, threads)
        for seed in cfg.seeds:
            m = files.read_json(layout.run_dir(cfg.results_dir, cfg.optimizer, seed) / "metrics.json")
            chosen = ", ".join(f"{k} {m[k]:g}" for k in GRID_AXES[cfg.optimizer])
            log(f"{cfg.optimizer} seed {seed}: chosen {chosen}; test accuracy {m['test_accuracy']:.3f} "
                f"({m['epochs_run']} epochs, best {m['best_epoch']})"
                + (f"; fine-tuned: {m['ft_test_accuracy']:.3f} in {m['ft_wall_seconds']:.0f} s "
                   f"(estimated {m['ft_estimated_seconds']:.0f} s)" if "ft_test_accuracy" in m else ""))
        log(f"{cfg.optimizer}: notebook {notebook} ({seconds:.0f} s)")
        return {"optimizer": cfg.optimizer, "seeds": list(cfg.seeds), "seconds": seconds,
                "start": time.perf_counter() - seconds, "end": time.perf_counter()}

    done = []
    try:
        if jobs == 1 or len(todo) <= 1:
            for cfg in todo:
                done.append(one(cfg))
        else:
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                futures = [pool.submit(one, cfg) for cfg in todo]
                try:
                    for future in futures:
                        done.append(future.result())
                except BaseException:
                    for future in futures:
                        future.cancel()
                    execute.stop_kernels()  # the other executions end now instead of running on
                    raise
    except BaseException:
        execute.stop_kernels()
        raise
    if done:
        first = min(d["start"] for d in done)
        wall = max(d["end"] for d in done) - first
        for d in done:
            d["start"], d["end"] = d["start"] - first, d["end"] - first
        log(f"study: trainings took {wall:.0f} s of wall time ({sum(d['seconds'] for d in done):.0f} s summed)")
    return done


def study_record(configs, prep, timings: dict, jobs: int, started: float) -> dict:
    """``study.json``: what the study did and how long each step took, on which machine."""
    executions = timings.pop("executions")
    wall = (max(e["end"] for e in executions) - min(e["start"] for e in executions)) if executions else 0.0
    total = time.perf_counter() - started
    return {
        "optimizers": [c.optimizer for c in configs], "seeds": len(configs[0].seeds), "smoke": configs[0].smoke,
        "jobs": jobs, "images": int(len(prep.table)), "data_kind": prep.kind, "weights": configs[0].weights,
        "image_size": configs[0].image_size, "grid_size": len(configs[0].grid_points()),
        "fine_tune": configs[0].fine_tune, "fine_tune_epochs": configs[0].fine_tune_epochs,
        **timings,
        "executions": executions, "trainings_seconds": wall,
        "trainings_to_features": (wall / timings["features_extraction_seconds"]
                                  if timings["features_extraction_seconds"] > 0 else None),
        "total_seconds": total, "machine": machine.machine(), "versions": machine.versions(),
    }
