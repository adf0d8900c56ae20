"""Shared fixtures: small synthetic data sets, the real photos when present, the project root."""
import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
# The real photos: $LIONPOC_REAL_DATA, else ../shared/data/stanford_dogs_15 beside the checkout, else the
# workplace's shared folder (a CI clone may live elsewhere).
REAL_DATA = next((p for p in (Path(os.environ.get("LIONPOC_REAL_DATA", "/nonexistent")),
                              ROOT.parent / "shared" / "data" / "stanford_dogs_15",
                              Path("/work/shared/data/stanford_dogs_15")) if (p / "Images").is_dir()),
                 ROOT.parent / "shared" / "data" / "stanford_dogs_15")

# Genuinely ImageNet-pretrained MobileNetV2 weights without top: $LIONPOC_MOBILENET_WEIGHTS, else
# ../shared/weights beside the checkout, else the workplace's shared folder.
MOBILENET_WEIGHTS = next((p for p in (Path(os.environ.get("LIONPOC_MOBILENET_WEIGHTS", "/nonexistent")),
                                      ROOT.parent / "shared" / "weights" / "mobilenet_v2_imagenet_notop.weights.h5",
                                      Path("/work/shared/weights/mobilenet_v2_imagenet_notop.weights.h5"))
                          if p.is_file()), ROOT.parent / "shared" / "weights" / "mobilenet_v2_imagenet_notop.weights.h5")


@pytest.fixture(scope="session")
def mobilenet_weights():
    if not MOBILENET_WEIGHTS.is_file():
        pytest.skip(f"the ImageNet weights of MobileNetV2 are not on this machine ({MOBILENET_WEIGHTS} is absent)")
    return MOBILENET_WEIGHTS


def scrambled_test_split(prep):
    """A copy of a prepared run whose test labels are shuffled and whose test features are noise (and with no
    trainer compiled yet): what tuning does with it must not differ from what it does with ``prep``."""
    import numpy as np

    table = prep.table.copy()
    test = table["split"] == "test"
    table.loc[test, "label"] = np.random.default_rng(0).permutation(table.loc[test, "label"].to_numpy())
    feats = prep.features
    noisy = feats.__class__(feats.files, feats.values.copy(), feats.skipped, feats.key, 0, True)
    rows = [feats.files.index(f) for f in table.loc[test, "file"]]
    noisy.values[rows] = np.random.default_rng(1).normal(size=(len(rows), noisy.values.shape[1]))
    return prep.__class__(**{**prep.__dict__, "table": table, "features": noisy, "trainers": {}})


def spec(name: str):
    """The optimizer ``name`` as its parameter file describes it."""
    from lionpoc.model import optimizers

    return optimizers.load(name, ROOT)


def run_config(name: str, **values):
    """A run of optimizer ``name`` (its parameter file) with ``values`` overriding it."""
    from lionpoc.study.config import load_run

    return load_run(name, ROOT, values)


def learnable_features_for_registry(n_train=600, n_val=150, dim=64, seed=0):
    """Features where a linear head learns something: noisy copies of 15 random centres."""
    import numpy as np

    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(15, dim))

    def part(n):
        y = rng.integers(0, 15, n)
        return (centres[y] * 0.6 + rng.normal(size=(n, dim))).astype(np.float32), y
    return part(n_train), part(n_val)


@pytest.fixture(scope="session")
def synthetic_dir(tmp_path_factory):
    """15 breeds x 12 images of 48 px: enough for splits, fast to read."""
    from lionpoc.data.synth import make_synthetic

    return make_synthetic(tmp_path_factory.mktemp("synth") / "dogs", per_class=12, size=48, seed=1)


@pytest.fixture(scope="session")
def real_dir():
    if not (REAL_DATA / "Images").is_dir():
        pytest.skip(f"the real photos of the 15 breeds are not on this machine ({REAL_DATA} is absent)")
    return REAL_DATA


@pytest.fixture(scope="session")
def project_root():
    return ROOT


@pytest.fixture(scope="session")
def smoke_study(tmp_path_factory):
    """A finished smoke study (one seed, three optimizers) made by `lionpoc study`, with its console output;
    shared by the tests of every file (one smoke study per test session): a test that changes anything
    works on a copy."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("smoke") / "results"
    done = subprocess.run([sys.executable, "-m", "lionpoc.cli", "study", "--smoke", "--no-render", "--results-dir",
                           str(out)], cwd=ROOT, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out, done


@pytest.fixture(scope="session")
def smoke_results(smoke_study):
    return smoke_study[0]


class InProcess:
    """An executor for the study's steps that trains each optimizer's seeds in this process, without papermill
    (the template is copied where the executed notebook goes)."""

    def run(self, todo, study, log):
        import dataclasses
        import shutil
        import time

        from lionpoc.study import layout, runs

        done = []
        for cfg in todo:
            t0 = time.perf_counter()
            prep = dataclasses.replace(study.prep, cfg=cfg, trainers={})
            for seed in cfg.seeds:
                runs.run_seed(prep, seed, log=log)
            shutil.copy(ROOT / "analysis" / "train.ipynb", layout.notebook_path(cfg.results_dir, cfg.optimizer))
            done.append({"optimizer": cfg.optimizer, "seeds": list(cfg.seeds), "seconds": time.perf_counter() - t0,
                         "start": t0, "end": time.perf_counter()})
        return done


def make_results(out, data_dir, cache_dir, seeds=(0, 1), optimizers=("adam", "adamw", "lion"), image_size=71,
                 epochs=15):
    """Real results written by the study's own steps, executions in process (no papermill): small grids, short
    training, and the study tables, memory, baseline and study.json the study writes, with their measured times."""
    from lionpoc import data
    from lionpoc.model import memory
    from lionpoc.study import pipeline
    from lionpoc.study.config import load_run

    grids = {"adam": {"learning_rate": [3e-3], "l2": [0.0, 1e-3]},
             "adamw": {"learning_rate": [3e-3], "weight_decay": [0.01, 0.1]},
             "lion": {"learning_rate": [3e-4], "weight_decay": [0.1, 1.0]},
             "sgd": {"learning_rate": [3e-2], "l2": [0.0, 1e-3]}}
    quiet = lambda *_: None  # noqa: E731
    configs = [load_run(name, ROOT, dict(grid=grids[name], epochs=epochs, patience=4, seeds=list(seeds),
                                         image_size=image_size, weights="none",
                                         smoke=data.data_kind(Path(data_dir)) == "synthetic", data_dir=str(data_dir),
                                         results_dir=str(out), cache_dir=str(cache_dir)))
               for name in optimizers]
    study = pipeline.Study(configs, ROOT, Path(out), jobs=1, render=False)
    pipeline.check_inputs(study, quiet)
    pipeline.extract_features(study, quiet)
    pipeline.run_executions(study, InProcess(), quiet)
    pipeline.aggregate_results(study, quiet, memory_models={"head": memory.head_model(),
                                                            "xception": memory.head_model(4096)})
    pipeline.record(study, quiet)
    return out


@pytest.fixture(scope="session")
def results_maker():
    """``make_results`` itself, for a test that assembles a results folder of its own."""
    return make_results


@pytest.fixture(scope="session")
def results_dir(tmp_path_factory, synthetic_dir):
    base = tmp_path_factory.mktemp("results")
    return make_results(base / "results", synthetic_dir, base / "cache")


@pytest.fixture(scope="session")
def real_results_dir(tmp_path_factory, real_dir):
    """A 1-seed study of the real photos with random weights, at 71 px (about a minute here)."""
    base = tmp_path_factory.mktemp("real")
    return make_results(base / "results", real_dir / "Images", base / "cache", seeds=(0,), epochs=20)
