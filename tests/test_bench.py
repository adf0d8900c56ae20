"""The benchmark runs and writes valid numbers (timings are printed, never asserted)."""
import json
import math

import pytest

from lionpoc.bench import run_benchmark


@pytest.mark.slow  # a minute or more: the full tier (CI) runs it
def test_benchmark_writes_positive_finite_numbers(tmp_path):
    # Tiny sizes: 16 images, and the smallest backbone at its smallest side (MobileNetV2, 32 px): the numbers
    # are written the same way for every backbone, and compiling the training step of the whole Xception
    # three times took most of a minute.
    report = run_benchmark(tmp_path, images=16, image_size=32, smoke_study=False, log=lambda *_: None,
                           backbone="mobilenet_v2")
    saved = json.loads((tmp_path / "benchmark.json").read_text())
    assert saved["cache"]["images"] == 16 and saved["backbone"] == "mobilenet_v2"
    numbers = [saved["cache"]["cached_epoch_seconds"], saved["cache"]["naive_epoch_seconds"],
               saved["extraction"]["pipeline_images_per_second"], saved["extraction"]["bare_forward_images_per_second"]]
    assert all(math.isfinite(x) and x > 0 for x in numbers)
    rows = {(o["model"], o["optimizer"]): o for o in saved["optimizers"]}
    assert len(rows) == 6 and all(o["step_seconds"] > 0 for o in rows.values())
    assert rows[("mobilenet_v2", "lion")]["state_bytes"] * 2 == rows[("mobilenet_v2", "adamw")]["state_bytes"]
    assert rows[("head", "lion")]["state_bytes"] == (1280 + 1) * 15 * 4  # one moment per weight, float32
    assert report["cache"]["speedup"] == saved["cache"]["speedup"]


def test_task_overheads_exclude_waiting_for_a_busy_worker():
    """The engine's overhead per task: submission (or the worker's previous result) to start, plus end to result."""
    from lionpoc.bench import task_overheads

    tasks = [  # two tasks submitted at 0 on one worker: the second waits for the first, which is not overhead
        {"worker": "a", "submitted": 0.0, "started": 0.2, "ended": 10.0, "received": 10.1},
        {"worker": "a", "submitted": 0.0, "started": 10.4, "ended": 20.0, "received": 20.5},
        {"worker": "b", "submitted": 5.0, "started": 5.3, "ended": 9.0, "received": 9.0},
    ]
    assert [round(x, 6) for x in task_overheads(tasks)] == [0.3, 0.3, 0.8]  # in order of start


@pytest.mark.slow  # three small studies, a profile and a fine-tuning epoch: minutes
def test_seed_benchmark_writes_the_ratio_the_profile_and_the_fine_tuning_floor(tmp_path, synthetic_dir):
    from lionpoc.bench import run_seed_benchmark

    # The studies timed are Lion's alone (two notebook executions, not six): the ratio is computed the same way.
    report = run_seed_benchmark(tmp_path, synthetic_dir, "mobilenet_v2", "none", seeds=(1, 2), image_size=32,
                                cache_dir=tmp_path / "cache", log=lambda *_: None, study_optimizers=["lion"])
    saved = json.loads((tmp_path / "benchmark_seeds.json").read_text())
    assert [(s["seeds"], s["optimizers"]) for s in saved["studies"]] == [(1, ["lion"]), (2, ["lion"])]
    few, many = (s["trainings_seconds"] for s in saved["studies"])
    assert saved["trainings_ratio"] == pytest.approx(many / few)
    # T(n) = F + n c through both studies; with 1 and 2 seeds the ratio reaches 1.5 when c <= F.
    assert saved["fixed_seconds"] + saved["seconds_per_seed"] == pytest.approx(few)
    assert saved["fixed_seconds"] + 2 * saved["seconds_per_seed"] == pytest.approx(many)
    assert saved["seconds_per_seed_for_goal"] == pytest.approx(saved["fixed_seconds"])
    profile = saved["profile"]
    assert profile["optimizer"] == "lion" and profile["seeds"] == 1 and profile["cpu_seconds"] > 0
    # The buckets are parts of the profiled time, and the compiled epochs are among them.
    assert 0 < profile["buckets"]["compiled epochs (XLA execution, first call compiles)"] <= profile["cpu_seconds"]
    # The draws made ahead in a thread are invisible to cProfile: the trainers time them, and they cost something.
    assert 0 < profile["buckets"]["shuffles and dropout masks (drawn ahead in a thread)"] < profile["cpu_seconds"]
    assert profile["top_own_time"][0]["own_seconds"] >= profile["top_own_time"][-1]["own_seconds"]
    tuned = saved["fine_tune"]
    # MobileNetV2's retrained part at 32 px (1 x 1 maps): block 16 and the final convolution, 0.88 M weights,
    # so about 0.88 M multiply-adds an image, plus the head's 1,280 x 15.
    assert 0.8e6 < tuned["macs_per_image"] < 1.0e6
    assert tuned["floor_seconds"] > 0 and tuned["ratio"] == pytest.approx(tuned["epoch_seconds"] / tuned["floor_seconds"])
    assert report["trainings_ratio"] == saved["trainings_ratio"]
