"""Shared fixtures: small synthetic data sets, the real photos when present, the project root."""
import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
REAL_DATA = ROOT.parent / "shared" / "data" / "stanford_dogs_15"


@pytest.fixture(scope="session")
def synthetic_dir(tmp_path_factory):
    """15 breeds x 12 images of 48 px: enough for splits, fast to read."""
    from lionpoc.synth import make_synthetic

    return make_synthetic(tmp_path_factory.mktemp("synth") / "dogs", per_class=12, size=48, seed=1)


@pytest.fixture(scope="session")
def real_dir():
    if not (REAL_DATA / "Images").is_dir():
        pytest.skip(f"the real photos of the 15 breeds are not on this machine ({REAL_DATA} is absent)")
    return REAL_DATA


@pytest.fixture
def project_root():
    return ROOT


def make_results(out, synthetic_dir, cache_dir, seeds=(0, 1), optimizers=("adam", "adamw", "lion")):
    """Real results written by the real run steps (no papermill): small grids, short training."""
    from lionpoc import aggregate, baseline, data, experiment, figures, memory, results
    from lionpoc.config import RunConfig

    grids = {"adam": {"learning_rate": [3e-3], "l2": [0.0]},
             "adamw": {"learning_rate": [3e-3], "weight_decay": [0.01]},
             "lion": {"learning_rate": [3e-4], "weight_decay": [0.1]}}
    prep = None
    for name in optimizers:
        for seed in seeds:
            cfg = RunConfig(optimizer=name, grid=grids[name], epochs=15, patience=4, seed=seed, image_size=71,
                            weights="none", smoke=True, data_dir=str(synthetic_dir), results_dir=str(out),
                            cache_dir=str(cache_dir))
            prep = experiment.prepare(cfg, log=lambda *_: None)
            fit, tuning = experiment.tune(prep, log=lambda *_: None)
            evaluation = experiment.test(prep, fit)
            run = experiment.save(prep, fit, tuning, evaluation, {"history": figures.history(fit.history, fit.best_epoch)},
                                  log=lambda *_: None)
            import shutil
            from pathlib import Path

            template = Path(__file__).resolve().parents[1] / "analysis" / "train.ipynb"
            shutil.copy(template, run / "training.ipynb")  # stands in for the executed notebook
    aggregate.write_tables(out)
    small = {"head": memory.head_model(), "xception": memory.head_model(4096)}
    results.write_csv(out / "memory.csv", memory.optimizer_memory(small))
    test_rows = prep.table[prep.table["split"] == "test"]
    results.write_json(out / "baseline.json", baseline.zero_training_accuracy(test_rows, synthetic_dir, "none"))
    return out


@pytest.fixture(scope="session")
def results_dir(tmp_path_factory, synthetic_dir):
    base = tmp_path_factory.mktemp("results")
    return make_results(base / "results", synthetic_dir, base / "cache")
