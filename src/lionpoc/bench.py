"""Benchmark: speed and memory ratios measured in one run on this machine (``lionpoc bench``).

Timings are never asserted in tests; this prints ratios and writes ``results/benchmark.json``.
"""
from __future__ import annotations

import os
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


def bench_cache(paths: list[Path], labels: np.ndarray, image_size: int, run: RunConfig, log=print,
                backbone: str | None = None) -> dict:
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
    width = backbones.spec(backbone).feature_dim  # the default backbone's unless told, as in the default study
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

    base = features.build_base("none", image_size, backbones.spec(backbone).name)
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


def bench_extraction(paths: list[Path], image_size: int, log=print, backbone: str | None = None) -> dict:
    """Feature-extraction throughput (decode + preprocess + forward) vs the bare forward pass."""
    base = features.build_base("none", image_size, backbones.spec(backbone).name)
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


def bench_optimizers(image_size: int, runs: list[RunConfig], log=print, backbone: str | None = None) -> list[dict]:
    """Per-step time and state bytes of each optimizer, on the head and on the full backbone (the default's
    unless ``backbone`` is given)."""
    import keras

    rows = []
    rng = np.random.default_rng(0)
    base = backbones.spec(backbone)
    cases = {"head": (lambda: memory.head_model(base.feature_dim), (64, base.feature_dim)),
             base.name: (lambda: memory.full_model(image_size, base.name), (8, image_size, image_size, 3))}
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
    from lionpoc.workflow import run_study

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
                  log=print, backbone: str | None = None) -> dict:
    from lionpoc.errors import LionpocError
    from lionpoc.study.config import MAX_IMAGE_SIZE

    base = backbones.spec(backbone)
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
                  "machine": machine.machine(), "versions": machine.versions(), "backbone": base.name,
                  "cache": bench_cache(paths, labels, image_size, focus, log, base.name),
                  "extraction": bench_extraction(paths, image_size, log, base.name),
                  "optimizers": bench_optimizers(image_size, runs, log, base.name)}
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
    from lionpoc.workflow import run_study

    quiet = lambda *_: None  # noqa: E731
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, where in (("local", None), ("cluster", cluster)):
            start = time.perf_counter()
            out = run_study(seeds=seeds, smoke=data_dir is None, data_dir=data_dir, results_dir=Path(tmp) / name,
                            weights="none", image_size=image_size, render=False,
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


# ---------------------------------------------------------------------------------- the cost of a seed
PROFILE_BUCKETS = (  # what a seed's time goes to, by the functions that spend it (cumulative times)
    ("compiled epochs (XLA execution, first call compiles)", "TFE_Py_Execute", "tottime"),
    ("tracing the epoch (Python side of compiling)", "trace_function", "cumtime"),
    ("figures (matplotlib)", "savefig|figures.py", "cumtime"),
    ("grid's Python loop (early stopping, best weights)", "grid.py:train", "tottime"),
    ("test split scored", "runs.py:test", "cumtime"),
    ("files written", "run_files.py:save", "cumtime"),
)


def profile_seeds(cfg: RunConfig, log=print) -> dict:
    """Run one optimizer's seeds in this process as its notebook does, under cProfile with a CPU-time clock
    (on a shared machine wall time counts the other processes too), and name where the time goes: the top
    functions by their own time and the buckets of ``PROFILE_BUCKETS``."""
    import cProfile
    import pstats
    import re

    from lionpoc.study import runs

    quiet = lambda *_: None  # noqa: E731
    prep = runs.prepare(cfg, quiet)
    profiler = cProfile.Profile(time.process_time)
    start, wall = time.process_time(), time.perf_counter()
    profiler.enable()
    runs.run_all(prep, quiet)
    profiler.disable()
    total, wall = time.process_time() - start, time.perf_counter() - wall
    stats = pstats.Stats(profiler).stats  # (file, line, name) -> (calls, primitive, tottime, cumtime, callers)

    def label(key):
        file, line, name = key
        return f"{Path(file).name}:{name}" if file != "~" else name

    top = sorted(stats.items(), key=lambda item: -item[1][2])[:8]
    buckets = {}
    for name, pattern, column in PROFILE_BUCKETS:
        matching = [v for k, v in stats.items() if re.search(pattern, f"{k[0]}:{k[2]}" if k[0] != "~" else k[2])]
        index = 2 if column == "tottime" else 3
        # Cumulative times of recursive or nested entries would count twice: the outermost call is the largest.
        buckets[name] = (sum(v[index] for v in matching) if column == "tottime"
                         else max((v[index] for v in matching), default=0.0))
    # The shuffles and dropout masks are drawn ahead in a thread, which cProfile does not follow: their CPU
    # time is measured by the trainers themselves.
    buckets["shuffles and dropout masks (drawn ahead in a thread)"] = sum(
        getattr(trainer, "draw_seconds", 0.0) for trainer in prep.trainers.values())
    seeds = len(cfg.seeds)
    log(f"bench: profile of {cfg.optimizer}'s {seeds} seeds in one process: {total:.1f} s of CPU "
        f"({wall:.1f} s of wall time), {total / seeds:.2f} s a seed")
    for name, seconds in sorted(buckets.items(), key=lambda item: -item[1]):
        log(f"bench:   {name}: {seconds:.1f} s ({seconds / total:.0%})")
    return {"optimizer": cfg.optimizer, "seeds": seeds, "cpu_seconds": total, "wall_seconds": wall,
            "cpu_seconds_per_seed": total / seeds, "buckets": buckets,
            "top_own_time": [{"function": label(k), "calls": v[0], "own_seconds": v[2], "cumulative_seconds": v[3]}
                             for k, v in top]}


def fine_tune_epoch(prep, log=print) -> dict:
    """One fine-tuning epoch (the retrained layers + head on the cached activations, ``fit`` as the study
    runs it) against its floor: the multiply-adds of those layers (forward, and twice that backward) over
    the training images, plus the forward pass over the validation images, at the rate a 1 x 1 convolution
    of the retrained shapes reaches on this machine."""
    import keras
    import tensorflow as tf

    from lionpoc.model import finetune
    from lionpoc.model.grid import standardisation
    from lionpoc.model.head import head_from_weights

    cfg = prep.cfg
    x_pooled, _, _ = prep.part("train")
    mean, variance = standardisation(x_pooled)
    head = head_from_weights(mean, variance, np.zeros((len(mean), len(breeds.FOLDERS)), np.float32),
                             np.zeros(len(breeds.FOLDERS), np.float32), cfg.dropout)
    train, val = (prep.table[prep.table["split"] == s] for s in ("train", "val"))
    x, y = prep.features.cut(train["file"].tolist()), train["label"].to_numpy()
    x_val, y_val = prep.features.cut(val["file"].tolist()), val["label"].to_numpy()
    base = features.build_base(cfg.weights, cfg.image_size, cfg.backbone)
    model = finetune.build(base, head, backbone=cfg.backbone)
    model.compile(optimizer=make_optimizer(cfg.spec, 1e-5, finetune.probe_decay(cfg.spec)),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    fit = lambda: model.fit(x, y, validation_data=(x_val, y_val), epochs=1,  # noqa: E731
                            batch_size=finetune.BATCH_SIZE, shuffle=True, verbose=0)
    fit()  # compiles the step
    macs, widest = 0, None
    for layer in model.layers:
        if not layer.weights or isinstance(layer, keras.layers.BatchNormalization):
            continue
        out = layer.output.shape
        if isinstance(layer, keras.layers.DepthwiseConv2D):
            count = out[1] * out[2] * out[3] * int(np.prod(layer.kernel_size))
        elif isinstance(layer, keras.layers.Conv2D):
            count = out[1] * out[2] * out[3] * int(np.prod(layer.kernel_size)) * layer.input.shape[-1]
            if tuple(layer.kernel_size) == (1, 1) and (widest is None or count > widest[1]):
                widest = (layer, count)
        elif isinstance(layer, keras.layers.SeparableConv2D):
            depth = layer.input.shape[-1]
            count = out[1] * out[2] * depth * (int(np.prod(layer.kernel_size)) + out[3])
        else:  # the head (a nested model): its dense layer
            count = sum(int(np.prod(w.shape)) for w in layer.weights if len(w.shape) == 2)
        macs += count
    # The rate: the largest 1 x 1 convolution of the retrained layers, alone, forward, on a training batch.
    conv = widest[0] if widest else None
    shape = (finetune.BATCH_SIZE, *conv.input.shape[1:]) if conv is not None else (finetune.BATCH_SIZE, 7, 7, 320)
    filters = conv.filters if conv is not None else 1280
    inputs = tf.constant(np.random.default_rng(0).normal(size=shape).astype(np.float32))
    kernel = tf.constant(np.random.default_rng(1).normal(size=(1, 1, shape[-1], filters)).astype(np.float32))
    conv_call = tf.function(lambda: tf.nn.conv2d(inputs, kernel, 1, "SAME"))
    conv_call()
    # Interleaved, and the fastest single call: on a shared machine the load moves between two measurements,
    # and the least disturbed call is the closest to the machine's own rate (so the floor errs low, the
    # ratio high).
    seconds, epochs = [], []
    for _ in range(2):
        seconds.append(_best_of(lambda: conv_call().numpy(), repeat=100))
        epochs.append(_best_of(fit, repeat=1))
    seconds.append(_best_of(lambda: conv_call().numpy(), repeat=100))
    epoch = min(epochs)
    rate = shape[0] * shape[1] * shape[2] * shape[3] * filters / min(seconds)
    floor = macs * (3 * len(x) + len(x_val)) / rate
    log(f"bench: one fine-tuning epoch ({backbones.spec(cfg.backbone).fine_tune_label}, {len(x)} images) takes "
        f"{epoch:.2f} s; its floor is {floor:.2f} s ({macs / 1e6:.0f} M multiply-adds an image, at the "
        f"{rate / 1e9:.1f} G multiply-adds/s of a 1 x 1 convolution of its shapes): {epoch / floor:.2f}x")
    return {"epoch_seconds": epoch, "floor_seconds": floor, "ratio": epoch / floor, "macs_per_image": macs,
            "conv_macs_per_second": rate, "train_images": len(x), "val_images": len(x_val)}


def seed_studies(seed_counts, data_dir, backbone, weights, cache_dir, repeats: int = 1, image_size=None,
                 log=print, optimizers: list[str] | None = None) -> list[dict]:
    """The default study (its optimizers unless ``optimizers`` are given, no render) at each number of seeds,
    the feature cache in place, ``repeats`` times in turn: the trainings' wall time of each (``study.json``)."""
    from lionpoc.workflow import run_study

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(repeats):
            for seeds in seed_counts:
                start = time.perf_counter()
                out = run_study(seeds=seeds, optimizers=optimizers, data_dir=data_dir,
                                results_dir=Path(tmp) / f"{seeds}-{repeat}",
                                weights=weights, backbone=backbone, image_size=image_size, render=False,
                                cache_dir=cache_dir, force=True, log=lambda *_: None)
                study = files.read_json(out / "study.json")
                rows.append({"seeds": seeds, "repeat": repeat, "optimizers": study["optimizers"],
                             "trainings_seconds": study["trainings_seconds"],
                             "total_seconds": time.perf_counter() - start,
                             "load_average": list(os.getloadavg())})
                log(f"bench: {seeds}-seed study: trainings {study['trainings_seconds']:.0f} s, "
                    f"{rows[-1]['total_seconds']:.0f} s in all (load average {rows[-1]['load_average'][0]:.1f})")
    return rows


def run_seed_benchmark(results_dir: Path, data_dir=None, backbone: str | None = None, weights: str = "imagenet",
                       optimizer: str | None = None, seeds: tuple = (3, 10), repeats: int = 1,
                       image_size: int | None = None, cache_dir=None, log=print,
                       study_optimizers: list[str] | None = None) -> dict:
    """``lionpoc bench --seed-cost``: what a seed costs, into ``results/benchmark_seeds.json``.

    1. A profile of one optimizer's seeds (the focus's by default, ``seeds[0]`` of them); 2. the default
    study's trainings with ``seeds[0]`` and ``seeds[1]`` seeds, their ratio (issue 27's goal: 10 seeds
    at most 1.5x the time of 3); 3. one fine-tuning epoch against its floor (goal: within 2x). The feature
    cache of the project serves every step (filled by the first study when empty). ``study_optimizers``
    narrows the studies of step 2 to those optimizers (default: the default study's)."""
    from lionpoc.study.pipeline import ensure_writable, plan
    from lionpoc.study import runs

    ensure_writable(Path(results_dir))
    cache_dir = Path(cache_dir) if cache_dir else layout.project_root() / "data" / "processed"
    studies = seed_studies(seeds, data_dir, backbone, weights, cache_dir, repeats, image_size, log,
                           optimizers=study_optimizers)
    ratios = []
    for repeat in range(repeats):
        few, many = (next(r["trainings_seconds"] for r in studies if r["seeds"] == n and r["repeat"] == repeat)
                     for n in seeds[:2])
        ratios.append(many / few)
    log(f"bench: trainings of {seeds[1]} seeds / {seeds[0]} seeds: " + ", ".join(f"{r:.2f}x" for r in ratios)
        + " (goal <= 1.5x)")
    # The trainings as a fixed cost F plus c a seed, from the same run: T(n) = F + n c. The ratio stays within 1.5
    # when c (n_many - 1.5 n_few) <= 0.5 F: for 3 and 10 seeds, c <= F / 11.
    few_n, many_n = seeds[:2]
    t_few = float(np.median([r["trainings_seconds"] for r in studies if r["seeds"] == few_n]))
    t_many = float(np.median([r["trainings_seconds"] for r in studies if r["seeds"] == many_n]))
    per_seed = (t_many - t_few) / (many_n - few_n)
    fixed = t_few - few_n * per_seed
    allowed = fixed * 0.5 / (many_n - 1.5 * few_n) if many_n > 1.5 * few_n else float("nan")
    log(f"bench: as a fixed cost and a cost a seed: F = {fixed:.1f} s, c = {per_seed:.1f} s a seed "
        f"(1.5x needs c <= {allowed:.1f} s with this F)")
    from lionpoc.study.options import StudyOptions

    study = plan(StudyOptions(optimizers=[optimizer] if optimizer else None, seeds=seeds[0], data_dir=data_dir,
                              weights=weights, backbone=backbone, image_size=image_size, force=True, render=False,
                              results_dir=Path(tempfile.mkdtemp(prefix="lionpoc-seeds-")), cache_dir=cache_dir))
    cfg = next((c for c in study.configs if c.optimizer == (optimizer or study.focus)), study.configs[0])
    try:
        profile = profile_seeds(cfg, log)
        tuned = fine_tune_epoch(runs.prepare(cfg, lambda *_: None), log)
    finally:
        import shutil

        shutil.rmtree(cfg.results_dir, ignore_errors=True)
    report = {"created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": machine.machine(),
              "versions": machine.versions(), "backbone": cfg.backbone, "weights": weights,
              "data_dir": str(data_dir), "studies": studies, "seed_counts": list(seeds[:2]),
              "trainings_ratio": float(np.median(ratios)), "trainings_ratios": ratios,
              "fixed_seconds": fixed, "seconds_per_seed": per_seed, "seconds_per_seed_for_goal": allowed,
              "profile": profile, "fine_tune": tuned}
    files.write_json(Path(results_dir) / "benchmark_seeds.json", report)
    log(f"bench: wrote {Path(results_dir) / 'benchmark_seeds.json'}")
    return report
