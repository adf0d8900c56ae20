"""Benchmark: speed and memory ratios measured in one run on this machine (``lionpoc bench``).

Timings are never asserted in tests; this prints ratios and writes ``results/benchmark.json``.
"""
from __future__ import annotations

import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from . import breeds, data, features, machine, memory, results
from .config import OPTIMIZERS
from .optimizers import make_optimizer, state_bytes
from .synth import make_synthetic


def _best_of(fn, repeat: int = 3) -> float:
    """Smallest wall time of ``repeat`` calls (the least disturbed by other processes)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_cache(paths: list[Path], labels: np.ndarray, image_size: int, log=print) -> dict:
    """One training epoch of the head on cached features vs an epoch running the frozen base on each image."""
    from .train import build_head

    base = features.build_base("none", image_size)
    values = np.concatenate([base.predict_on_batch(b) for _, b, _ in features.iter_batches(paths, image_size)])
    head = build_head(values, len(breeds.FOLDERS))
    head.compile(make_optimizer("lion", 1e-4), "sparse_categorical_crossentropy")
    head.fit(values, labels, epochs=1, batch_size=32, verbose=0)  # warm-up (graph tracing)
    cached = _best_of(lambda: head.fit(values, labels, epochs=1, batch_size=32, verbose=0))

    def naive_epoch():
        # The naive way: every epoch decodes each image and runs the frozen base forward again.
        for ok, batch, _ in features.iter_batches(paths, image_size):
            head.train_on_batch(base.predict_on_batch(batch), labels[ok])

    naive_epoch()
    naive = _best_of(naive_epoch, repeat=2)
    log(f"bench: epoch on cached features {cached:.3f} s vs naive epoch {naive:.2f} s -> {naive / cached:.0f}x")
    return {"images": len(paths), "image_size": image_size, "cached_epoch_seconds": cached,
            "naive_epoch_seconds": naive, "speedup": naive / cached}


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


def bench_optimizers(image_size: int, log=print) -> list[dict]:
    """Per-step time and state bytes of each optimizer, on the head and on the full Xception."""
    import keras

    rows = []
    rng = np.random.default_rng(0)
    cases = {"head": (memory.head_model, (64, 2048)), "xception": (lambda: memory.full_model(image_size),
                                                                   (8, image_size, image_size, 3))}
    for model_name, (make, shape) in cases.items():
        x = rng.normal(size=shape).astype(np.float32)
        y = rng.integers(0, len(breeds.FOLDERS), size=shape[0])
        for name in OPTIMIZERS:
            keras.utils.set_random_seed(0)
            model = make()
            measured = state_bytes(make_optimizer(name, 1e-4), model.trainable_variables)
            model.compile(make_optimizer(name, 1e-4), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
            model.train_on_batch(x, y)  # warm-up: builds the optimizer and traces the step
            step = _best_of(lambda: model.train_on_batch(x, y), repeat=3 if model_name == "xception" else 20)
            rows.append({"model": model_name, "optimizer": name, "batch": shape[0], "step_seconds": step, **measured})
            log(f"bench: {model_name} {name}: {step * 1000:.1f} ms/step, state {measured['state_bytes'] / 2**20:.1f} MiB")
    return rows


def bench_smoke_study(log=print) -> dict:
    """Wall time of a whole smoke study in a fresh results folder, split by stage."""
    from .study import run_study

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        # A fresh cache, so that the feature extraction is timed too.
        out = run_study(smoke=True, results_dir=Path(tmp) / "results", force=True, cache_dir=Path(tmp) / "cache",
                        log=lambda *_: None)
        total = time.perf_counter() - start
        timings = results.read_json(out / "study.json")["timings"]
    log(f"bench: smoke study {total:.0f} s in all " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()))
    return {"total_seconds": total, **timings}


def run_benchmark(results_dir: Path, images: int = 128, image_size: int = 299, smoke_study: bool = True,
                  log=print) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        folder = make_synthetic(Path(tmp) / "synth", per_class=max(1, -(-images // 15)), size=224, seed=3)
        table, _ = data.list_images(folder)
        table = table.iloc[:images]
        paths = [folder / f for f in table["file"]]
        labels = table["label"].to_numpy()
        report = {"created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  "machine": machine.machine(), "versions": machine.versions(),
                  "cache": bench_cache(paths, labels, image_size, log),
                  "extraction": bench_extraction(paths, image_size, log),
                  "optimizers": bench_optimizers(image_size, log)}
    if smoke_study:
        report["smoke_study"] = bench_smoke_study(log)
    results.write_json(Path(results_dir) / "benchmark.json", report)
    log(f"bench: wrote {Path(results_dir) / 'benchmark.json'}")
    return report
