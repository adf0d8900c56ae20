"""The benchmark runs and writes valid numbers (timings are printed, never asserted)."""
import json
import math

import pytest

from lionpoc.bench import run_benchmark


@pytest.mark.slow  # a minute or more: the full tier (CI) runs it
def test_benchmark_writes_positive_finite_numbers(tmp_path):
    # Tiny sizes: the full Xception of the optimizer comparison at 71 px, 16 images.
    report = run_benchmark(tmp_path, images=16, image_size=71, smoke_study=False, log=lambda *_: None)
    saved = json.loads((tmp_path / "benchmark.json").read_text())
    assert saved["cache"]["images"] == 16
    numbers = [saved["cache"]["cached_epoch_seconds"], saved["cache"]["naive_epoch_seconds"],
               saved["extraction"]["pipeline_images_per_second"], saved["extraction"]["bare_forward_images_per_second"]]
    assert all(math.isfinite(x) and x > 0 for x in numbers)
    rows = {(o["model"], o["optimizer"]): o for o in saved["optimizers"]}
    assert len(rows) == 6 and all(o["step_seconds"] > 0 for o in rows.values())
    assert rows[("xception", "lion")]["state_bytes"] * 2 == rows[("xception", "adamw")]["state_bytes"]
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
