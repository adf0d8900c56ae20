"""Bad input and faults through the real commands: one clear sentence, a non-zero exit, nothing half-written."""
import json
import os
import shutil
import subprocess
import sys
import time

import pandas as pd
import pytest

from lionpoc import experiment, results
from lionpoc.config import RunConfig
from lionpoc.errors import LionpocError

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}


def lionpoc(*args, cwd, timeout=600):
    return subprocess.run([sys.executable, "-m", "lionpoc.cli", *args], cwd=cwd, env=ENV, capture_output=True,
                          text=True, timeout=timeout)


def error_line(done):
    lines = [line for line in done.stderr.splitlines() if line.startswith("lionpoc: error:")]
    assert len(lines) == 1, done.stderr[-2000:]
    return lines[0]


@pytest.mark.parametrize("setup, message", [
    ("absent", "does not exist"),
    ("empty", "is empty"),
    ("partial", "lacks 2 of the 15 breed folders (n02111889-Samoyed, n02112018-Pomeranian)"),
])
def test_bad_data_dirs(tmp_path, synthetic_dir, project_root, setup, message):
    data_dir = tmp_path / "dogs"
    if setup == "empty":
        data_dir.mkdir()
    elif setup == "partial":
        shutil.copytree(synthetic_dir, data_dir)
        shutil.rmtree(data_dir / "n02111889-Samoyed")
        shutil.rmtree(data_dir / "n02112018-Pomeranian")
    out = tmp_path / "results"
    done = lionpoc("study", "--data-dir", str(data_dir), "--weights", "none", "--results-dir", str(out),
                   "--no-render", cwd=project_root)
    assert done.returncode == 1 and message in error_line(done)
    assert not list(out.rglob("*.json")) and not list(out.rglob("*.csv"))


def test_unknown_optimizer_lists_the_valid_ones(project_root):
    done = lionpoc("study", "--optimizers", "adam,sgd", cwd=project_root)
    assert done.returncode == 2 and "valid optimizers are: adam, adamw, lion" in done.stderr


@pytest.mark.parametrize("args, message", [
    (["--seeds", "0"], "--seeds must be at least 1"),
    (["--image-size", "20"], "image_size must be at least 71"),
    (["--weights", "/nonexistent/xception.h5"], "does not exist"),
])
def test_invalid_numbers_and_weights(tmp_path, project_root, args, message):
    done = lionpoc("study", "--smoke", "--no-render", "--results-dir", str(tmp_path / "r"), *args, cwd=project_root)
    assert done.returncode == 1 and message in error_line(done)


def test_a_file_that_is_not_keras_weights(tmp_path, project_root, synthetic_dir):
    junk = tmp_path / "junk.weights.h5"
    junk.write_bytes(b"\x89HDF\r\n not really")
    done = lionpoc("study", "--data-dir", str(synthetic_dir), "--weights", str(junk), "--image-size", "71",
                   "--results-dir", str(tmp_path / "r"), "--no-render", cwd=project_root)
    assert done.returncode == 1 and "is not a Keras weights file" in error_line(done)


def test_results_folder_not_writable(tmp_path, project_root):
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    done = lionpoc("study", "--smoke", "--no-render", "--results-dir", str(blocker / "results"), cwd=project_root)
    assert done.returncode == 1 and "is not writable" in error_line(done)


@pytest.mark.parametrize("content, message", [
    ("optimizer: lion\ncolour: red\n", "unknown parameter(s) colour"),
    ("optimizer: lion\nepochs: ten\n", "parameter epochs must be of type int"),
    ("optimizer: lion\nepochs: 0\n", "epochs must be at least 1"),
    ("optimizer: lion\ngrid: {learning_rate: [-1.0], weight_decay: [0.1]}\n", "learning rates must be > 0"),
    ("optimizer: lion\nval_fraction: 0.3\n", "split fractions must sum to 1"),
])
def test_bad_parameter_files_stop_the_notebook(tmp_path, project_root, content, message):
    params = tmp_path / "bad.yaml"
    params.write_text(content)
    out = tmp_path / "results"
    done = subprocess.run([sys.executable, "-m", "papermill", "analysis/train.ipynb", str(tmp_path / "o.ipynb"),
                           "-f", str(params), "-p", "results_dir", str(out)],
                          cwd=project_root, env=ENV, capture_output=True, text=True, timeout=600)
    assert done.returncode != 0 and message in done.stderr
    assert not out.exists()


def test_render_names_what_is_missing(tmp_path, project_root, results_dir):
    empty = lionpoc("render", "--results-dir", str(tmp_path / "none"), cwd=project_root)
    assert empty.returncode == 1 and "run `lionpoc study`" in error_line(empty)
    partial = tmp_path / "partial"
    shutil.copytree(results_dir, partial)
    shutil.rmtree(partial / "adam")
    done = lionpoc("render", "--results-dir", str(partial), cwd=project_root)
    assert "no results for adam" in done.stdout and "lionpoc study --optimizers adam" in done.stdout
    if shutil.which("quarto") is None:
        assert done.returncode == 1 and "quarto command is not installed" in error_line(done)


def test_a_failed_write_keeps_the_previous_file(tmp_path, monkeypatch):
    target = tmp_path / "metrics.json"
    results.write_json(target, {"accuracy": 0.8})

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", disk_full)
    with pytest.raises(LionpocError, match="No space left on device; the previous version is intact"):
        results.write_csv(tmp_path / "metrics.json", pd.DataFrame({"a": [1]}))
    assert json.loads(target.read_text()) == {"accuracy": 0.8}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]


def test_same_seed_gives_identical_files_and_corrupt_images_are_listed(tmp_path, synthetic_dir):
    data_dir = tmp_path / "dogs"
    shutil.copytree(synthetic_dir, data_dir)
    (data_dir / "n02096051-Airedale" / "broken.jpg").write_bytes(b"\xff\xd8\xff truncated")
    outputs = []
    for attempt in ("a", "b"):
        cfg = RunConfig(optimizer="lion", grid={"learning_rate": [3e-4], "weight_decay": [0.1]}, epochs=6,
                        patience=3, image_size=71, weights="none", data_dir=str(data_dir),
                        results_dir=str(tmp_path / attempt), cache_dir=str(tmp_path / f"cache-{attempt}"))
        prep = experiment.prepare(cfg, log=lambda *_: None)
        outputs.append(experiment.run_seed(prep, 0, log=lambda *_: None).folder)
    a, b = (json.loads((o / "metrics.json").read_text()) for o in outputs)
    assert a["skipped_files"][0]["file"] == "n02096051-Airedale/broken.jpg"
    for key in results.TIMING_KEYS + ("params",):
        a.pop(key, None), b.pop(key, None)
    a.pop("feature_seconds"), b.pop("feature_seconds")
    assert a == b
    for name in ("predictions.csv", "confusion.csv", "classification_report.csv"):
        assert (outputs[0] / name).read_bytes() == (outputs[1] / name).read_bytes()
    history = [pd.read_csv(o / "history.csv").drop(columns="seconds") for o in outputs]
    pd.testing.assert_frame_equal(*history)


@pytest.mark.slow
def test_a_killed_study_resumes_where_it_stopped(tmp_path, project_root):
    out = tmp_path / "results"
    args = [sys.executable, "-m", "lionpoc.cli", "study", "--smoke", "--optimizers", "adam,lion", "--no-render",
            "--results-dir", str(out)]
    process = subprocess.Popen(args, cwd=project_root, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True)
    for line in process.stdout:  # wait until adam is finished and lion has started
        if line.startswith("[2/2] lion seed 0: running"):
            time.sleep(8)
            process.kill()
            break
    process.wait(timeout=60)
    assert results.is_complete(out / "adam" / "seed-0") and not results.is_complete(out / "lion" / "seed-0")
    again = lionpoc("study", "--smoke", "--optimizers", "adam,lion", "--no-render", "--results-dir", str(out),
                    cwd=project_root)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "[1/2] adam seed 0: already done" in again.stdout and "read from the cache" in again.stdout
    assert "[2/2] lion seed 0: test accuracy" in again.stdout
    assert results.is_complete(out / "lion" / "seed-0")
    assert not (out / "lion" / "seed-0" / "training.partial.ipynb").exists()
