"""Benchmark: speed and memory ratios measured in one run on this machine (``lionpoc bench``).

Timings are never asserted in tests; this prints ratios and writes ``results/benchmark.json``.
"""
from __future__ import annotations

import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from lionpoc.data import breeds
from lionpoc import data
from lionpoc.model import backbones
from lionpoc.model import features
from lionpoc import machine
from lionpoc.model import memory
from lionpoc import files
from lionpoc.study import layout
from lionpoc.model import optimizers as registry
from lionpoc.study.config import RunConfig, load_run
from lionpoc.model.optimizers import make_optimizer, state_bytes
from lionpoc.data.synth import make_synthetic


def _best_of(fn, repeat: int = 3) -> float:
    """Smallest wall time of ``repeat`` calls (the least disturbed by other processes)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def study_runs(root: Path | None = None) -> list[RunConfig]:
    """The default study's runs, as their parameter files describe them (grids included)."""
    root = root or layout.project_root()
    return [load_run(name, root, {"seeds": [0]}) for name in registry.default_study(root)]


def bench_cache(paths: list[Path], labels: np.ndarray, image_size: int, run: RunConfig, log=print) -> dict:
    """A head epoch as the study trains it vs an epoch that runs the frozen base on each image.

    The cached epoch is measured as the study runs it: the 9 configurations of a grid trained
    together on 2,602 feature vectors (the real training split), its time shared among them. The
    naive epoch decodes ``paths``, runs the base and takes a training step on each batch. Both are
    compared per training image.
    """
    from lionpoc.model.grid import GridTrainer
    from lionpoc.model.head import build_head

    n_train, grid = 2602, run.grid_points()
    rng = np.random.default_rng(0)
    width = backbones.spec().feature_dim  # the default backbone's, as in the default study
    x = rng.normal(size=(n_train, width)).astype(np.float32)
    y = rng.integers(0, len(breeds.FOLDERS), n_train)
    xv, yv = x[:326], y[:326]
    trainer = GridTrainer(run.spec, grid, width, len(breeds.FOLDERS), n_train=n_train, batch_size=32,
                          dropout=0.2)
    trainer.train(x, y, xv, yv, epochs=1, patience=100, seed=0)  # warm-up: compiles the epoch
    epochs = 10
    joint = _best_of(lambda: trainer.train(x, y, xv, yv, epochs=epochs, patience=100, seed=0), repeat=2) / epochs
    cached = joint / len(grid)
    log(f"bench: head epoch on {n_train} cached vectors {cached * 1000:.1f} ms "
        f"({len(grid)} configurations together: {joint * 1000:.0f} ms an epoch)")

    base = features.build_base("none", image_size)
    values = np.concatenate([base.predict_on_batch(b) for _, b, _ in features.iter_batches(paths, image_size)])
    head = build_head(values, len(breeds.FOLDERS))
    head.compile(make_optimizer(run.spec, 1e-4), "sparse_categorical_crossentropy")
    head.train_on_batch(values[:32], labels[:32])  # warm-up (graph tracing)

    def naive_epoch():
        # The naive way: every epoch decodes each image and runs the frozen base forward again.
        for ok, batch, _ in features.iter_batches(paths, image_size):
            head.train_on_batch(base.predict_on_batch(batch), labels[ok])

    naive_epoch()
    naive = _best_of(naive_epoch, repeat=2)
    speedup = (naive / len(paths)) / (cached / n_train)
    log(f"bench: per training image, naive epoch {naive / len(paths) * 1000:.0f} ms vs cached "
        f"{cached / n_train * 1e6:.1f} µs -> {speedup:,.0f}x")
    return {"images": len(paths), "image_size": image_size, "train_vectors": n_train,
            "cached_epoch_seconds": cached, "joint_epoch_seconds": joint, "grid_size": len(grid),
            "naive_epoch_seconds": naive, "naive_epoch_seconds_per_image": naive / len(paths),
            "speedup": speedup}


def bench_extraction(paths: list[Path], image_size: int, log=print) -> dict:
    """Feature-extraction throughput (decode + preprocess + forward) vs the bare forward pass."""
    base = features.build_base("none", image_size)
    batches = [batch for _, batch, _ in features.iter_batches(paths, image_size)]
    base.predict_on_batch(batches[0])  # warm-up
    bare = _best_of(lambda: [base.predict_on_batch(b) for b in batches], repeat=2)

    def pipeline():
        for _, batch, _ in features.iter_batches(paths, image_size):
            base.predict_on_batch(batch)

    full = _best_of(pipeline, repeat=2)
    log(f"bench: extraction {len(paths) / full:.1f} images/s vs bare forward {len(paths) / bare:.1f} images/s "
        f"({bare / full:.0%} of the model's own limit)")
    return {"images": len(paths), "image_size": image_size, "pipeline_images_per_second": len(paths) / full,
            "bare_forward_images_per_second": len(paths) / bare, "pipeline_fraction_of_bare": bare / full}


def bench_optimizers(image_size: int, runs: list[RunConfig], log=print) -> list[dict]:
    """Per-step time and state bytes of each optimizer, on the head and on the full default backbone."""
    import keras

    rows = []
    rng = np.random.default_rng(0)
    base = backbones.spec()
    cases = {"head": (memory.head_model, (64, base.feature_dim)),
             base.name: (lambda: memory.full_model(image_size), (8, image_size, image_size, 3))}
    for model_name, (make, shape) in cases.items():
        x = rng.normal(size=shape).astype(np.float32)
        y = rng.integers(0, len(breeds.FOLDERS), size=shape[0])
        for spec in (r.spec for r in runs):
            name = spec.name
            keras.utils.set_random_seed(0)
            model = make()
            measured = state_bytes(make_optimizer(spec, 1e-4), model.trainable_variables)
            model.compile(make_optimizer(spec, 1e-4), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
            model.train_on_batch(x, y)  # warm-up: builds the optimizer and traces the step
            step = _best_of(lambda: model.train_on_batch(x, y), repeat=3 if model_name == base.name else 20)
            rows.append({"model": model_name, "optimizer": name, "batch": shape[0], "step_seconds": step, **measured})
            log(f"bench: {model_name} {name}: {step * 1000:.1f} ms/step, state {measured['state_bytes'] / 2**20:.1f} MiB")
    return rows


def bench_smoke_study(log=print) -> dict:
    """Wall time of a whole smoke study in a fresh results folder, split by stage."""
    from lionpoc.study.pipeline import run_study

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        # A fresh cache, so that the feature extraction is timed too.
        out = run_study(smoke=True, results_dir=Path(tmp) / "results", force=True, cache_dir=Path(tmp) / "cache",
                        log=lambda *_: None)
        total = time.perf_counter() - start
        study = files.read_json(out / "study.json")
    timings = {"features_seconds": study["features_seconds"], "trainings_seconds": study["trainings_seconds"],
               "aggregate_seconds": study["aggregate_seconds"]}
    log(f"bench: smoke study {total:.0f} s in all " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()))
    return {"total_seconds": total, **timings}


def run_benchmark(results_dir: Path, images: int = 128, image_size: int = 299, smoke_study: bool = True,
                  log=print) -> dict:
    from lionpoc.errors import LionpocError
    from lionpoc.study.config import MAX_IMAGE_SIZE

    base = backbones.spec()
    if images < 15:
        raise LionpocError(f"--images must be at least 15 (one image per breed), got {images}.")
    if image_size < base.min_size:
        raise LionpocError(f"--image-size must be at least {base.min_size} pixels ({base.label}'s minimum), "
                           f"got {image_size}.")
    if image_size > MAX_IMAGE_SIZE:
        raise LionpocError(f"--image-size must be at most {MAX_IMAGE_SIZE} pixels (larger inputs need gigabytes of "
                           f"memory per batch), got {image_size}.")
    from lionpoc.study.pipeline import ensure_writable

    ensure_writable(Path(results_dir))
    with tempfile.TemporaryDirectory() as tmp:
        folder = make_synthetic(Path(tmp) / "synth", per_class=max(1, -(-images // 15)), size=224, seed=3)
        runs = study_runs()
        focus = next((r for r in runs if r.spec.focus), runs[-1])  # the grid timed is the question's optimizer's
        table, _ = data.list_images(folder)
        table = table.iloc[:images]
        paths = [folder / f for f in table["file"]]
        labels = table["label"].to_numpy()
        report = {"created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  "machine": machine.machine(), "versions": machine.versions(),
                  "cache": bench_cache(paths, labels, image_size, focus, log),
                  "extraction": bench_extraction(paths, image_size, log),
                  "optimizers": bench_optimizers(image_size, runs, log)}
    if smoke_study:
        report["smoke_study"] = bench_smoke_study(log)
    files.write_json(Path(results_dir) / "benchmark.json", report)
    log(f"bench: wrote {Path(results_dir) / 'benchmark.json'}")
    return report


# ---------------------------------------------------------------------------------- a Dask cluster
def task_overheads(tasks: list[dict]) -> list[float]:
    """Per task, the time the engine added around it: from submission (or the end of the worker's previous
    task, when it had to wait for one) to its start, plus from its end to its result on the client."""
    overheads, free_at = [], {}
    for t in sorted(tasks, key=lambda t: t["started"]):
        ready = max(t["submitted"], free_at.get(t["worker"], t["submitted"]))
        overheads.append(max(0.0, t["started"] - ready) + max(0.0, t["received"] - t["ended"]))
        free_at[t["worker"]] = t["received"]
    return overheads


def bench_cluster(cluster: str, data_dir: Path | None, image_size: int, seeds: int, log=print) -> dict:
    """The same study on this machine and on ``cluster`` (fresh caches, so both do the feature pass):
    wall times, the feature pass's images per second, and the engine's overhead per task."""
    from lionpoc.study.pipeline import run_study

    quiet = lambda *_: None  # noqa: E731
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, where in (("local", None), ("cluster", cluster)):
            start = time.perf_counter()
            out = run_study(seeds=seeds, smoke=data_dir is None, data_dir=data_dir, results_dir=Path(tmp) / name,
                            weights="none", image_size=image_size, render_report=False,
                            cache_dir=Path(tmp) / f"cache-{name}", cluster=where, log=quiet)
            study = files.read_json(out / "study.json")
            study["wall_seconds"] = time.perf_counter() - start
            runs[name] = study
            log(f"bench: {name} study {study['wall_seconds']:.0f} s (features {study['features_seconds']:.0f} s, "
                f"trainings {study['trainings_seconds']:.0f} s)")
    local, remote = runs["local"], runs["cluster"]
    tasks = remote["cluster"]["tasks"]
    overheads = task_overheads(tasks)
    result = {
        "cluster": {k: v for k, v in remote["cluster"].items() if k != "tasks"}, "images": local["images"],
        "image_size": image_size, "seeds": seeds, "optimizers": local["optimizers"],
        "local_seconds": local["wall_seconds"], "cluster_seconds": remote["wall_seconds"],
        "cluster_to_local": remote["wall_seconds"] / local["wall_seconds"],
        # The whole feature step on each side (building the base included, the cache written): on one machine
        # the pass's own counter starts after the base is built, on a cluster the shards build theirs.
        "local_features_images_per_second": local["images"] / local["features_seconds"],
        "cluster_features_images_per_second": remote["images"] / remote["features_seconds"],
        "features_ratio": local["features_seconds"] / remote["features_seconds"],
        "local_trainings_seconds": local["trainings_seconds"], "cluster_trainings_seconds": remote["trainings_seconds"],
        "tasks": len(tasks), "overhead_mean_seconds": float(np.mean(overheads)),
        "overhead_max_seconds": float(np.max(overheads)),
    }
    log(f"bench: on {cluster} the study takes {result['cluster_to_local']:.2f}x the time it takes here "
        f"({result['cluster_seconds']:.0f} s vs {result['local_seconds']:.0f} s); the sharded feature pass runs at "
        f"{result['features_ratio']:.0%} of this machine's images/s ({result['cluster_features_images_per_second']:.1f} "
        f"vs {result['local_features_images_per_second']:.1f}); engine overhead per task "
        f"{result['overhead_mean_seconds']:.2f} s on average, {result['overhead_max_seconds']:.2f} s at most, "
        f"over {len(tasks)} tasks")
    return result


def run_cluster_benchmark(results_dir: Path, cluster: str, data_dir: Path | None = None, image_size: int = 150,
                          seeds: int = 3, log=print) -> dict:
    """``lionpoc bench --cluster``: writes ``results/benchmark_cluster.json``."""
    from lionpoc.study.pipeline import ensure_writable

    ensure_writable(Path(results_dir))
    report = {"created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": machine.machine(),
              **bench_cluster(cluster, data_dir, image_size, seeds, log)}
    files.write_json(Path(results_dir) / "benchmark_cluster.json", report)
    log(f"bench: wrote {Path(results_dir) / 'benchmark_cluster.json'}")
    return report
