"""The steps of one optimizer's runs, as called by the notebook ``analysis/train.ipynb``.

prepare (data, cached features, split; once) -> for each seed: tune (grid on the validation split)
-> test (once, for the chosen configuration) -> save (``run_files.py``: every result file, atomically).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lionpoc import data
from lionpoc.data import datasets
from lionpoc.model import features
from lionpoc import machine
from lionpoc import files
from lionpoc.study import bundle
from lionpoc.study import layout
from lionpoc.study.prepared import Prepared
from lionpoc.study import run_files
from lionpoc.study import sensitivity
from lionpoc.study.config import RunConfig
from lionpoc.model.evaluate import Evaluation, evaluate
from lionpoc.data.synth import make_synthetic_once
from lionpoc.model.bracket import Bracketing
from lionpoc.model.head import Fit, bracketed_search

SYNTHETIC_DIR = Path("data/synthetic")  # under the project root
PREPARED_ENV = "LIONPOC_PREPARED"  # set by a cluster worker for its kernel: the folder of what the study sent
SMOKE_PER_CLASS = 60
SMOKE_IMAGE_PIXELS = 96


def data_dir_for(cfg: RunConfig, log=print) -> Path:
    """The configured data directory; for a smoke run without one, the synthetic set (made if absent)."""
    if cfg.smoke and not cfg.data_dir:
        folder = layout.project_root() / SYNTHETIC_DIR  # under the project, whatever the working directory
        if not (folder / data.SYNTHETIC_MARKER).exists():
            log(f"smoke: writing a synthetic data set to {folder}")
            make_synthetic_once(folder, per_class=SMOKE_PER_CLASS, size=SMOKE_IMAGE_PIXELS)
        return folder
    return data.resolve_data_dir(cfg.data_dir)


def prepare(cfg: RunConfig, log=print, extractor=None) -> Prepared:
    """List the images, get their features (cache or one pass of the base, by ``extractor`` when given),
    split the readable ones. In a kernel started by a cluster worker (``$LIONPOC_PREPARED`` set), the split
    and the features are the ones the study sent: the worker has no access to the images."""
    machine.limit_threads()
    if os.environ.get(PREPARED_ENV):
        meta, table, found, dataset = bundle.read(Path(os.environ[PREPARED_ENV]))
        log(describe(table, Path(meta["data_dir"]), meta["kind"], found, dataset))
        return Prepared(cfg, Path(meta["data_dir"]), meta["kind"], table, found, meta["notes"], dataset)
    data_dir = data_dir_for(cfg, log)
    listing = data.read(data_dir)
    table, notes, dataset = listing.table, listing.notes, listing.dataset
    for note in notes:
        log(f"data: {note}")
    if listing.split_given:
        log(f"data: the split given by the folders {', '.join(f'{v}/' for v in listing.parts.values())} is used as it "
            "is" + ("" if "val" in listing.parts else " (validation drawn from train/, stratified)"))
    root = listing.root
    feats = features.load_or_extract(table["file"].tolist(), root, cfg.image_size, cfg.weights,
                                     Path(cfg.cache_dir), cfg.batch_size, log, backbone=cfg.backbone,
                                     extractor=extractor)
    readable = table[table["file"].isin(set(feats.files))].reset_index(drop=True)
    split = data.make_split(readable, cfg.split, data_dir,
                            (cfg.train_fraction, cfg.val_fraction, cfg.test_fraction), cfg.split_seed,
                            list(dataset.folders))
    log(describe(split, data_dir, dataset.kind, feats, dataset))
    return Prepared(cfg, data_dir, dataset.kind, split, feats, notes, dataset, listing)


def describe(split: pd.DataFrame, data_dir: Path, kind: str, feats: features.Features,
             dataset: datasets.DataSet = datasets.STANFORD_DOGS_15) -> str:
    """The line that says what data a run trains on."""
    counts = split["split"].value_counts()
    word = "breeds" if dataset.words == datasets.BREED_WORDS else "classes"
    return (f"data: {len(split)} images of {dataset.n_classes} {word} from {data_dir} ({kind}); "
            f"train {counts.get('train', 0)}, val {counts.get('val', 0)}, test {counts.get('test', 0)}"
            + (f"; {len(feats.skipped)} unreadable file(s) skipped" if feats.skipped else ""))


def tune(prep: Prepared, seed: int, log=print) -> tuple[Fit, pd.DataFrame]:
    """Grid search on train/validation only; returns the chosen head and the table of every configuration."""
    fit, table, _ = search(prep, seed, log)
    return fit, table


def search(prep: Prepared, seed: int, log=print) -> tuple[Fit, pd.DataFrame, Bracketing]:
    """``tune`` with its ``Bracketing`` record: the grid, extended where the choice sits on an edge
    (unless ``extend_grid`` is off), trained on train/validation only."""
    cfg = prep.cfg
    x_train, y_train, _ = prep.part("train")
    x_val, y_val, _ = prep.part("val")
    return bracketed_search(x_train, y_train, x_val, y_val, cfg.spec, cfg.grid_points(), prep.dataset.n_classes,
                            log, prep.trainers, extend=cfg.extend_grid, epochs=cfg.epochs, patience=cfg.patience,
                            batch_size=cfg.batch_size, dropout=cfg.dropout, seed=seed)


def test(prep: Prepared, fit: Fit) -> Evaluation:
    """The single use of the test split: score the chosen head."""
    x_test, y_test, files = prep.part("test")
    return evaluate(y_test, fit.probabilities(x_test), files, prep.dataset.names)


@dataclass
class SeedRun:
    """One seed of one optimizer, trained now or kept from an earlier study with the same inputs."""

    seed: int
    folder: Path
    metrics: dict
    tuning: pd.DataFrame
    kept: bool


def run_seed(prep: Prepared, seed: int, log=print) -> SeedRun:
    """Tune, test once and save one seed; a seed already done with the same inputs is kept as it is."""
    cfg = prep.cfg
    out = layout.run_dir(cfg.results_dir, cfg.optimizer, seed)
    if not cfg.force and run_files.is_done(cfg, seed, prep.features.key):
        log(f"{cfg.optimizer} seed {seed}: already done with the same inputs, kept")
        return SeedRun(seed, out, files.read_json(out / "metrics.json"), pd.read_csv(out / "tuning.csv"), True)
    damage = layout.damage(out)
    if damage:
        log(f"{cfg.optimizer} seed {seed}: its {damage[0]} is damaged; the run is done again ({damage[1]})")
    fit, tuning, bracketing = search(prep, seed, log)
    evaluation = test(prep, fit)
    varied = sensitivity.run(prep, seed, fit, log) if cfg.sensitivity else None
    tuned = None
    if cfg.fine_tunes(seed):
        remaining = sum(1 for s in cfg.seeds[cfg.seeds.index(seed):] if cfg.fine_tunes(s))
        tuned = fine_tune_seed(prep, seed, fit, log, remaining)
    # No figure here: the notebook draws them once for all the seeds (``report.display.seeds``).
    run_files.save(prep, seed, fit, tuning, evaluation, None, log, tuned, bracketing, varied)
    return SeedRun(seed, out, files.read_json(out / "metrics.json"), tuning, False)


def run_all(prep: Prepared, log=print) -> list[SeedRun]:
    """Every seed of the run (``cfg.seeds``), in order: what the notebook runs."""
    return [run_seed(prep, seed, log) for seed in prep.cfg.seeds]


def fine_tune_seed(prep: Prepared, seed: int, fit: Fit, log=print, remaining: int = 1):
    """The backbone's last layers (Xception: block 14) + the chosen head trained on the cached activations
    (Xception: block 13's outputs); scored once on the test split.

    Returns the fine-tuning and its test evaluation. The base is built afresh for each seed, so
    every seed starts from the same block-14 weights.
    """
    from lionpoc.model import finetune

    cfg = prep.cfg
    parts = {}
    for name in ("train", "val", "test"):
        rows = prep.table[prep.table["split"] == name]
        parts[name] = (prep.features.cut(rows["file"].tolist()), rows["label"].to_numpy(), rows["file"].tolist())
    base = features.build_base(cfg.weights, cfg.image_size, cfg.backbone)
    start = time.perf_counter()
    tuned = finetune.fine_tune(base, fit.model, cfg.spec, fit.config, parts["train"][0], parts["train"][1],
                               parts["val"][0], parts["val"][1], epochs=cfg.fine_tune_epochs,
                               patience=cfg.fine_tune_patience, seed=seed, log=log, estimate_for=remaining,
                               backbone=cfg.backbone)
    tuned.seconds = time.perf_counter() - start
    x_test, y_test, files = parts["test"]
    evaluation = evaluate(y_test, np.asarray(tuned.model.predict(x_test, batch_size=64, verbose=0)), files,
                          prep.dataset.names)
    log(f"fine-tuning {cfg.optimizer} seed {seed}: test accuracy {evaluation.accuracy:.3f} "
        f"(head alone {fit.val_accuracy:.3f} on validation, {tuned.val_accuracy_before:.3f} before fine-tuning)")
    return tuned, evaluation
