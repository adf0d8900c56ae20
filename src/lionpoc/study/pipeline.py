"""The whole study as named steps: plan -> check inputs -> features -> executions -> aggregate -> record.

Each step is a function of a :class:`Study` (what the study is and what it has done so far) and can be
called alone; :func:`run` calls them in order (``lionpoc.workflow`` adds the report's render after them).
Order matters for safety: every input is checked before anything in the results folder changes, and a
real study removes old smoke results only after its own feature pass has succeeded. Paths are absolute
(the synthetic set and the cache live under the project root), whatever the caller's working directory.
``results/study.json`` records how long each step took, for the report's performance section.
"""
from __future__ import annotations

import contextlib
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from lionpoc import data
from lionpoc import files
from lionpoc import machine
from lionpoc.errors import LionpocError
from lionpoc.model import backbones
from lionpoc.model import baseline
from lionpoc.model import memory
from lionpoc.study import aggregate
from lionpoc.study import checks
from lionpoc.study import classes as study_classes
from lionpoc.study import execute
from lionpoc.study import layout
from lionpoc.study import run_files
from lionpoc.study import runs
from lionpoc.study import timing
from lionpoc.model import optimizers as registry
from lionpoc.study import sensitivity as study_sensitivity
from lionpoc.study.config import RunConfig, load_run
from lionpoc.study.options import StudyOptions


# Seeds per optimizer when --seeds is not given: chosen from measurements (README, "Statistics"): with 10 seeds
# the pretrained study's seed-aware minimum detectable difference is about 1 point (3 seeds: about 2).
DEFAULT_SEEDS = 10


@dataclass
class Study:
    """One study: its configurations and folders (from :func:`plan`), then what each step produced."""

    configs: list[RunConfig]
    root: Path
    results_dir: Path
    jobs: int = 1                       # notebook executions at once on this machine
    render: bool = True
    focus: str | None = None            # the optimizer the question is about (the others are its rivals)
    started: float = field(default_factory=time.perf_counter)
    created: bool = False               # the results folder did not exist when the study began
    replaces_smoke: bool = False        # old smoke results go once this (real) study has its features
    writing: bool = False               # set once the study writes into its results folder (after the feature
    #                                     pass): before that, a failure leaves the folder exactly as it was
    prep: runs.Prepared | None = None
    timings: dict = field(default_factory=dict)
    executions: list[dict] = field(default_factory=list)
    cluster: dict | None = None         # where the executions ran, when not on this machine alone
    lock: object = None                 # held while the study runs: no second study writes its results folder
    summary: object = None              # the summary table (pandas), once aggregated
    record: dict | None = None          # study.json, once recorded


def run_configs(optimizers, seeds: int, overrides: dict, root: Path) -> list[RunConfig]:
    """One validated configuration per optimizer (all seeds), from ``analysis/params/<optimizer>.yaml``."""
    check_optimizer_names(optimizers, root)
    return [load_run(name, root, {**overrides, "seeds": list(range(seeds))}) for name in optimizers]


def check_optimizer_names(optimizers, root: Path) -> None:
    """Known, distinct names: each one has a parameter file, and two runs never share a results folder."""
    known = registry.available(root)
    if not optimizers:
        raise LionpocError("no optimizer given; known optimizers: " + ", ".join(known) + ".")
    repeated = sorted({n for n in optimizers if list(optimizers).count(n) > 1})
    if repeated:
        raise LionpocError(f"optimizer(s) named twice: {', '.join(repeated)}; each optimizer runs once per study "
                           "(use --seeds for repeated runs).")
    unknown = [n for n in optimizers if n not in known]
    if unknown:
        raise LionpocError(f"unknown optimizer(s) {', '.join(unknown)}: no analysis/params/<name>.yaml for them; "
                           f"known optimizers: {', '.join(known)} (adding one = adding its parameter file, see the "
                           "README).")


# ---------------------------------------------------------------------------------- step 0: plan
def plan(options: StudyOptions = StudyOptions()) -> Study:
    """Read and validate the command's options and the parameter files; write nothing."""
    o = options
    root = layout.project_root()
    optimizers, seeds, smoke, focus = o.optimizers, o.seeds, o.smoke, o.focus
    fine_tune, fine_tune_epochs, jobs, image_size = o.fine_tune, o.fine_tune_epochs, o.jobs, o.image_size
    results_dir = layout.results_dir(o.results_dir, root)
    optimizers = list(optimizers) if optimizers is not None else registry.default_study(root)
    check_optimizer_names(optimizers, root)
    if focus is not None and focus not in optimizers:
        raise LionpocError(f"--focus {focus}: the question must be about one of the study's optimizers "
                           f"({', '.join(optimizers)}).")
    seeds = seeds if seeds is not None else (1 if smoke else DEFAULT_SEEDS)
    if seeds < 1:
        raise LionpocError(f"--seeds must be at least 1, got {seeds}.")
    base = backbones.spec(o.backbone)  # an unknown name: one sentence listing the valid ones
    if image_size is not None and image_size < base.min_size:  # said here, not blamed on a parameter file
        raise LionpocError(f"--image-size must be at least {base.min_size} pixels ({base.label}'s minimum), "
                           f"got {image_size}.")
    cache_dir = Path(o.cache_dir).resolve() if o.cache_dir else root / "data" / "processed"
    overrides = {"smoke": smoke, "results_dir": str(results_dir), "cache_dir": str(cache_dir), "force": o.force,
                 "split": o.split, "data_dir": str(Path(o.data_dir).resolve()) if o.data_dir else None,
                 "backbone": base.name}
    overrides.update({k: v for k, v in (("weights", o.weights), ("image_size", image_size),
                                        ("fine_tune_epochs", fine_tune_epochs),
                                        ("fine_tune_seeds", o.fine_tune_seeds)) if v is not None})
    for given, flag in ((fine_tune_epochs, "--fine-tune-epochs"), (o.fine_tune_seeds, "--fine-tune-seeds")):
        if given is not None and not fine_tune:
            raise LionpocError(f"{flag} needs --fine-tune.")
    if o.fine_tune_seeds is not None and not 1 <= o.fine_tune_seeds <= seeds:
        raise LionpocError(f"--fine-tune-seeds must be between 1 and the number of seeds ({seeds}), "
                           f"got {o.fine_tune_seeds}.")
    overrides["fine_tune"] = fine_tune
    overrides["extend_grid"], overrides["sensitivity"] = o.extend_grid, o.sensitivity
    if overrides["data_dir"] is None and not smoke:
        default = data.resolve_data_dir()  # $LIONPOC_DATA, or data/raw/stanford_dogs under the project
        overrides["data_dir"] = str(default if default.is_absolute() else root / default)
    if jobs is not None and jobs < 1:
        raise LionpocError(f"--jobs must be at least 1, got {jobs}.")
    configs = run_configs(optimizers, seeds, overrides, root)
    checks.configs_agree(configs, root)  # one optimizer on other images, sizes or budget: refused before any work
    # All executions at once, even past the core count: each kernel is single-threaded for most of an
    # epoch, so three kernels on two cores finish sooner than two, then one (measured: 76 s vs 107 s).
    # With fine-tuning, one execution at a time with every core: fine-tuning dominates, runs as fast
    # alone with all threads as shared, and its printed estimate (measured here, all threads) then holds.
    # Except in a smoke study, which is there to check the chain quickly: all at once (95 s instead of
    # 139 s here, same numbers; each notebook's own estimate is measured under the same sharing).
    jobs = jobs or (1 if fine_tune and not smoke else len(configs))
    focus = focus or next((c.optimizer for c in configs if c.spec.focus), configs[-1].optimizer)
    return Study(configs, root, results_dir, jobs, o.render, focus=focus)


# ---------------------------------------------------------------------------------- step 1: check inputs
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
    found = existing_runs(results_dir)
    if found is None or found.empty:
        return False
    if smoke and not found["smoke"].all():
        raise LionpocError(f"{results_dir} holds the results of a real study; a smoke run will not overwrite them: "
                           "pass --results-dir to write the smoke results elsewhere (e.g. results-smoke).")
    return not smoke and bool(found["smoke"].any())


def remove_smoke_results(results_dir: Path, log=print) -> None:
    """Remove every smoke run, notebook and study table (called once the real study has its features)."""
    log(f"study: removing the smoke results in {results_dir}, replaced by this real study")
    layout.Layout(results_dir).remove_study()


def check_data(configs: list[RunConfig], log=print) -> None:
    """Everything about the data that can be checked before the slow feature pass: data, split, weights files."""
    from lionpoc.model import features

    cfg = configs[0]
    if cfg.smoke and not cfg.data_dir:
        return  # the synthetic set is made on demand and always splits
    data_dir = data.resolve_data_dir(cfg.data_dir)
    if not data_dir.exists():
        from lionpoc.data.download import download_dataset

        log(f"data: {data_dir} does not exist; downloading the official Stanford Dogs archive into it "
            "(about 790 MB, resumable)")
        made = files.missing_folders(data_dir)
        try:
            download_dataset(data_dir)
        except LionpocError as exc:
            files.remove_if_empty(made)
            raise LionpocError(f"data directory {data_dir} does not exist and could not be downloaded: {exc}") from None
        except BaseException:
            files.remove_if_empty(made)
            raise
    listing = data.read(data_dir)
    data.make_split(listing.table, cfg.split, data_dir, (cfg.train_fraction, cfg.val_fraction, cfg.test_fraction),
                    cfg.split_seed, list(listing.dataset.folders))
    log(f"data: {listing.dataset.name}, {listing.dataset.n_classes} classes, {len(listing.table)} images"
        + (" (split given by its folders)" if listing.split_given else ""))
    features.check_weights(cfg.weights, cfg.backbone, cfg.image_size)
    base = backbones.spec(cfg.backbone)
    if cfg.weights == "imagenet" and not features.imagenet_file_available(base.classifier_file):
        log(f"note: the zero-training baseline needs {base.classifier_file} ({base.label} with its ImageNet "
            "classifier), which is neither cached nor downloadable here: it will be skipped, the report says how "
            "to get it")


def check_inputs(study: Study, log=print) -> None:
    """Step 1: the smoke guard, a writable results folder, the data, the split and the weights."""
    checks.outside_sources(study.results_dir, study.root)
    study.lock = checks.lock_results(study.results_dir)  # first: a study refused here removes nothing
    study.replaces_smoke = check_smoke_guard(study.results_dir, study.configs[0].smoke)
    if not study.replaces_smoke:  # the runs this study keeps beside its own must share its inputs
        checks.others_share_inputs(study.configs, study.results_dir)
    study.created = study.created or not study.results_dir.exists()
    ensure_writable(study.results_dir)
    check_data(study.configs, log)


# ---------------------------------------------------------------------------------- step 2: features
def extract_features(study: Study, log=print, extractor=None) -> runs.Prepared:
    """Step 2: the one backbone pass (or the cache), by ``extractor`` when given (e.g. in shards on a
    cluster); from here on the study writes into its results folder."""
    study.timings["started_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    prep = runs.prepare(study.configs[0], log, extractor)
    # This study's own time for its features: the pass, or reading the cache. The duration of the pass
    # that made a cache belongs to the study that ran it, and is recorded apart.
    cached = prep.features.from_cache
    study.timings.update(features_seconds=time.perf_counter() - t0, features_from_cache=cached,
                         features_extraction_seconds=0.0 if cached else prep.features.seconds,
                         cached_features_seconds=prep.features.seconds if cached else None)
    study.prep = prep
    if not study.replaces_smoke:  # the same, now that the images' feature key is known
        checks.others_share_inputs(study.configs, study.results_dir, prep.features.key)
    study.writing = True
    if study.replaces_smoke:
        remove_smoke_results(study.results_dir, log)
    files.write_csv(study.results_dir / "split.csv", prep.table[["file", "breed", "label", "split"]])
    return prep


# ---------------------------------------------------------------------------------- step 3: executions
def pending(study: Study, log=print) -> list[RunConfig]:
    """The optimizers with seeds to (re)do, each with only those seeds; finished seeds with the same inputs are kept."""
    key = study.prep.features.key
    todo = []
    for cfg in study.configs:
        for note in checks.redo_notes(cfg, key):  # why a run done before is done again
            log(note)
        if not cfg.force and all(run_files.is_done(cfg, s, key) for s in cfg.seeds):
            log(f"{cfg.optimizer}: all {len(cfg.seeds)} seed(s) already done with the same inputs, kept")
        else:
            todo.append(cfg)
    return todo


def run_executions(study: Study, executor=None, log=print) -> list[dict]:
    """Step 3: one execution of the notebook per optimizer with work left, through ``executor``
    (default: papermill kernels on this machine, ``study.jobs`` at a time; or a Dask cluster)."""
    if study.configs[0].fine_tune:
        study.timings["fine_tune_estimate"] = announce_fine_tuning(study, log)
    todo = pending(study, log)
    executor = executor or execute.KernelPool(study.jobs)
    done = executor.run(todo, study, log) if todo else []
    if done:
        first = min(d["start"] for d in done)
        for d in done:
            d["start"], d["end"] = d["start"] - first, d["end"] - first
        wall = max(d["end"] for d in done)
        log(f"study: trainings took {wall:.0f} s of wall time ({sum(d['seconds'] for d in done):.0f} s summed)")
    study.executions = done
    describe = getattr(executor, "describe", None)
    study.cluster = describe() if describe else None
    return done


def announce_fine_tuning(study: Study, log=print) -> dict:
    """Measure one fine-tuning epoch here, then print the budget and the time it should take."""
    from lionpoc.model import finetune

    configs, prep, jobs = study.configs, study.prep, study.jobs
    cfg = configs[0]
    todo = sum(1 for c in configs for s in c.seeds
               if c.fine_tunes(s) and (c.force or not run_files.is_done(c, s, prep.features.key)))
    if not todo:
        return {}
    per_epoch, start_cost, set_up = finetune.probe(prep)
    configurations = len(finetune.LR_FACTORS)
    per_seed = set_up + per_epoch * configurations * cfg.fine_tune_epochs + start_cost * configurations
    total = per_seed * todo
    epochs = f"{cfg.fine_tune_epochs} epoch" + ("s" if cfg.fine_tune_epochs > 1 else "")
    log(f"fine-tuning: budget {configurations} learning rates x at most {epochs} for each of "
        f"{todo} (optimizer, seed) pair(s); one epoch of the retrained layers (the input of "
        f"{backbones.spec(cfg.backbone).fine_tune_layers[0]} onwards) + head over "
        f"{int((prep.table['split'] == 'train').sum())} images takes {per_epoch:.1f} s on this machine (measured now), so at most {per_seed:.0f} s per pair and "
        f"{total:.0f} s in all ({total / 60:.1f} min)" + ("" if jobs == 1 else
        f"; with {jobs} executions sharing the cores, each takes longer than measured here"))
    return {"seconds_per_epoch": per_epoch, "per_seed_seconds": per_seed, "total_seconds": total, "pairs": todo}


# ---------------------------------------------------------------------------------- step 4: aggregate
def aggregate_results(study: Study, log=print, memory_models: dict | None = None):
    """Step 4: the study's tables from every run in the folder, the optimizers' memory and the baseline."""
    t0 = time.perf_counter()
    prep, results_dir = study.prep, study.results_dir
    files.write_csv(results_dir / "timing.csv", timing.measure(study.configs, prep, aggregate.load_runs(results_dir), log=log))
    cfg = study.configs[0]
    files.write_csv(results_dir / "memory.csv",
                    memory.optimizer_memory([c.spec for c in study.configs], memory_models, backbone=cfg.backbone,
                                            n_classes=prep.dataset.n_classes))
    # After timing.csv and memory.csv: the costs table reads them.
    study.summary = aggregate.write_tables(results_dir, focus=focus_of(study))
    study_sensitivity.write_table(results_dir)
    test_rows = prep.table[prep.table["split"] == "test"]
    files.write_json(results_dir / "baseline.json",
                     baseline.zero_training_accuracy(test_rows, data.images_root(prep.data_dir), cfg.weights,
                                                     backbone=cfg.backbone, dataset=prep.dataset))
    study_classes.write_tables(results_dir, prep.dataset, study.configs, prep)
    study.timings["aggregate_seconds"] = time.perf_counter() - t0
    log("study: summary\n" + study.summary[["optimizer", "n_seeds", "test_accuracy_mean", "test_macro_f1_mean",
                                            "epochs_run"]].to_string(index=False))
    return study.summary


def focus_of(study: Study) -> str:
    """The optimizer the question is about: the study's, else the one whose parameter file says so, else the last."""
    return study.focus or next((c.optimizer for c in study.configs if c.spec.focus), study.configs[-1].optimizer)


# ---------------------------------------------------------------------------------- step 5: record
def study_record(study: Study) -> dict:
    """``study.json``: what the study did and how long each step took, on which machine."""
    configs, prep, timings, executions = study.configs, study.prep, study.timings, study.executions
    wall = (max(e["end"] for e in executions) - min(e["start"] for e in executions)) if executions else 0.0
    features_pass = timings.get("cached_features_seconds") or timings["features_extraction_seconds"]
    return {
        "optimizers": [c.optimizer for c in configs],
        "focus": focus_of(study),
        "optimizer_specs": {c.optimizer: c.spec.to_mapping() for c in configs},
        "trained_together": {c.optimizer: c.spec.coordinatewise for c in configs}, "seeds": len(configs[0].seeds), "smoke": configs[0].smoke,
        "jobs": study.jobs, "images": int(len(prep.table)), "data_kind": prep.kind, "weights": configs[0].weights,
        "data": data_record(prep),
        **backbones.record(configs[0].backbone, prep.features.pretrained),
        "image_size": configs[0].image_size, "data_dir": configs[0].data_dir, "split": configs[0].split,
        "grid_size": len(configs[0].grid_points()),
        "fine_tune": configs[0].fine_tune, "fine_tune_epochs": configs[0].fine_tune_epochs,
        "fine_tune_seeds": sum(1 for s in configs[0].seeds if configs[0].fine_tunes(s)),
        **timings,
        "executions": executions, "trainings_seconds": wall,
        # Trainings against one pass of the backbone, whichever study ran it.
        "trainings_to_features": wall / features_pass if features_pass and features_pass > 0 else None,
        **({"cluster": study.cluster} if study.cluster else {}),
        "total_seconds": time.perf_counter() - study.started, "machine": machine.machine(),
        "versions": machine.versions(), "code": machine.code(),
    }


def data_record(prep) -> dict:
    """``study.json``'s ``data``: the data set, its split, its classes' counts, what was skipped or left out."""
    from lionpoc.data import records

    listing = prep.listing or data.read(prep.data_dir)
    return records.record(listing, prep.table, prep.cfg.split, prep.features.skipped)


def record(study: Study, log=print) -> dict:
    """Step 5: write ``study.json``."""
    study.record = study_record(study)
    files.write_json(study.results_dir / "study.json", study.record)
    log(f"study: results in {study.results_dir} ({study.record['total_seconds']:.0f} s before the report)")
    return study.record


# ---------------------------------------------------------------------------------- the steps in order
def run(study: Study, executor=None, log=print, publish=None) -> Path:
    """Run (or resume) a planned study; return its results folder. ``publish(study, log)``, when given, runs
    last while the study still holds its results folder (``lionpoc.workflow`` passes the report's render: the
    study itself knows nothing of the report).

    Finished seeds whose inputs have not changed are kept, so an interrupted study resumes where
    it stopped; the feature cache is shared by every run.
    """
    try:
        try:
            check_inputs(study, log)
            extract_features(study, log, getattr(executor, "extract", None))  # a cluster also runs the pass
            run_executions(study, executor, log)
            aggregate_results(study, log)
        except BaseException:
            if study.created and not study.writing:  # a study that fails at its checks leaves no empty folder
                shutil.rmtree(study.results_dir, ignore_errors=True)
            elif study.writing:
                remove_empty_folders(study)  # e.g. lion/ of an execution that never started
            raise
        record(study, log)
        if publish is not None:
            publish(study, log)
    finally:
        checks.unlock(study.lock)  # no lock file left in the temporary folder
        study.lock = None
    return study.results_dir


def remove_empty_folders(study: Study) -> None:
    """The optimizers' folders a failed or interrupted study made and left empty (``lion/``, ``lion/logs``)."""
    for cfg in study.configs:
        for folder in (study.results_dir / cfg.optimizer, study.results_dir / "logs"):
            try:
                folder.rmdir()  # only when empty
            except OSError:
                pass


def executor_for(cluster: str | None = None, scheduler_file=None, log=print):
    """A context manager giving the executor: a Dask cluster's (``local:N``, a scheduler address or a
    scheduler file; connected now, so that an unreachable scheduler fails before any work), else None,
    i.e. papermill kernels on this machine."""
    if not cluster and not scheduler_file:
        return contextlib.nullcontext(None)
    from lionpoc.study import cluster as dask_cluster

    return dask_cluster.connect(cluster, scheduler_file, log)
