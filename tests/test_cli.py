"""Bad input and faults through the real commands: one clear sentence, a non-zero exit, nothing half-written."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import cli_runner
from conftest import run_config

from lionpoc.study import runs
from lionpoc.report import render
from lionpoc import files
from lionpoc.study import layout
from lionpoc.errors import LionpocError

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}


def lionpoc(*args, cwd, timeout=None):
    """The command, run in this process (see cli_runner): a refused command takes a second, not a new Python.
    (``timeout`` is accepted for the callers written for a subprocess; a command in process is not timed.)"""
    return cli_runner.run(*args, cwd=cwd)


def copied_project(tmp_path, project_root, **files_) -> Path:
    """A copy of the project's parameter files and report, with ``files_`` (name -> text) written into
    ``analysis/params``: a study typed there reads them."""
    project = tmp_path / "project"
    project.mkdir()
    for item in ("analysis", "report"):
        shutil.copytree(project_root / item, project / item)
    shutil.copy(project_root / "_quarto.yml", project)
    for name, text in files_.items():
        (project / "analysis" / "params" / f"{name}.yaml").write_text(text)
    return project


def error_line(done):
    """The one sentence a failed command prints; never a traceback."""
    assert "Traceback" not in done.stderr + done.stdout, done.stderr[-3000:]
    lines = [line for line in done.stderr.splitlines() if line.startswith("lionpoc: error:")]
    assert len(lines) == 1, done.stderr[-2000:]
    return lines[0]


def snapshot(folder: Path) -> dict:
    """Every file under ``folder`` with its bytes: to prove a failed command changed nothing."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def partial_files(folder: Path) -> list[str]:
    return [str(p) for p in folder.rglob("*") if ".partial" in p.name or ".tmp" in p.name or p.name == ".write-test"
            or p.name.endswith(".old")]


@pytest.mark.parametrize("setup, message", [
    ("absent", "does not exist"),
    ("empty", "is empty"),
    ("misspelt", "the class folder 'n02111889-samoyed' in {data_dir} differs from the Stanford Dogs breed folder "
                 "'n02111889-Samoyed' only in case or spacing"),
    ("short", "too few readable images to split for: n02112018-Pomeranian (3); each class needs at least 10"),
])
def test_bad_data_dirs(tmp_path, synthetic_dir, project_root, setup, message):
    data_dir = tmp_path / "dogs"
    if setup == "empty":
        data_dir.mkdir()
    elif setup == "misspelt":
        shutil.copytree(synthetic_dir, data_dir)
        (data_dir / "n02111889-Samoyed").rename(data_dir / "n02111889-samoyed")
    elif setup == "short":
        shutil.copytree(synthetic_dir, data_dir)
        for extra in sorted((data_dir / "n02112018-Pomeranian").iterdir())[3:]:
            extra.unlink()
    out = tmp_path / "results"
    done = lionpoc("study", "--data-dir", str(data_dir), "--weights", "none", "--results-dir", str(out),
                   "--no-render", cwd=project_root)
    assert done.returncode == 1 and message.format(data_dir=data_dir) in error_line(done)
    assert not list(out.rglob("*.json")) and not list(out.rglob("*.csv"))


def test_unknown_optimizer_lists_the_valid_ones(project_root):
    done = lionpoc("study", "--smoke", "--optimizers", "adam,nadamx", cwd=project_root)
    assert done.returncode == 1 and "known optimizers: adam, adamw, lion, sgd" in error_line(done)
    assert "nadamx" in error_line(done) and "Traceback" not in done.stderr
    twice = lionpoc("study", "--smoke", "--optimizers", "adam,adam", cwd=project_root)
    assert twice.returncode == 1 and "named twice: adam" in error_line(twice)
    focus = lionpoc("study", "--smoke", "--optimizers", "adam,lion", "--focus", "sgd", cwd=project_root)
    assert focus.returncode == 1 and "--focus sgd" in error_line(focus)


@pytest.mark.parametrize("args, message", [
    (["--seeds", "0"], "--seeds must be at least 1"),
    (["--image-size", "20"], "--image-size must be at least 71 pixels (Xception's minimum), got 20."),
    (["--image-size", "10", "--backbone", "mobilenet_v2"],
     "--image-size must be at least 32 pixels (MobileNetV2's minimum), got 10."),
    (["--weights", "/nonexistent/xception.h5"], "does not exist"),
    (["--fine-tune-seeds", "1"], "--fine-tune-seeds needs --fine-tune."),
    (["--fine-tune", "--fine-tune-seeds", "0"], "--fine-tune-seeds must be between 1 and the number of seeds (1), got 0."),
    (["--fine-tune", "--seeds", "2", "--fine-tune-seeds", "3"],
     "--fine-tune-seeds must be between 1 and the number of seeds (2), got 3."),
])
def test_invalid_numbers_and_weights(tmp_path, project_root, args, message):
    done = lionpoc("study", "--smoke", "--no-render", "--results-dir", str(tmp_path / "r"), *args,
                   cwd=project_root)
    assert done.returncode == 1 and message in error_line(done) and "analysis/params" not in error_line(done)


def test_a_file_that_is_not_keras_weights(tmp_path, project_root, synthetic_dir):
    junk = tmp_path / "junk.weights.h5"
    junk.write_bytes(b"\x89HDF\r\n not really")
    done = lionpoc("study", "--data-dir", str(synthetic_dir), "--weights", str(junk), "--image-size", "71",
                   "--results-dir", str(tmp_path / "r"), "--no-render", cwd=project_root)
    assert done.returncode == 1 and "is not a Keras weights file" in error_line(done)


def test_results_folder_not_writable(tmp_path, project_root):
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    done = lionpoc("study", "--smoke", "--no-render", "--results-dir", str(blocker / "results"),
                   cwd=project_root)
    assert done.returncode == 1 and "is not writable" in error_line(done)


LION_FILE = (Path(__file__).resolve().parents[1] / "analysis" / "params" / "lion.yaml").read_text()
LION_ENTRY = LION_FILE[:LION_FILE.index("grid:")]  # the file without its grid: the optimizer's description


@pytest.mark.parametrize("content, message", [
    (LION_FILE + "colour: red\n", "unknown parameter(s) colour"),
    (LION_FILE + "epochs: ten\n", "parameter epochs must be of type int"),
    (LION_FILE + "epochs: 0\n", "epochs must be at least 1"),
    (LION_ENTRY + "grid: {learning_rate: [-1.0], weight_decay: [0.1]}\n", "grid.learning_rate must be > 0"),
    (LION_ENTRY + "grid: {learning_rate: [1e-4], weight_decay: [0.1]}\n",
     "grid.learning_rate is '1e-4', which YAML reads as text, not a number; write it with a decimal point"),
    (LION_FILE + "val_fraction: 0.3\n", "split fractions must sum to 1"),
    ("# emptied by mistake\n", "does not describe its optimizer"),
    ("optimizer: lion\n", "names an optimizer without describing it"),
])
def test_bad_parameter_files_stop_the_notebook(tmp_path, project_root, content, message):
    """The notebook's own check of its parameters, run as its cells run it: the parameters cell's defaults, then
    the parameter file as papermill injects it (YAML), then ``RunConfig.from_namespace``."""
    import yaml

    from lionpoc.study.config import RunConfig

    notebook = json.loads((project_root / "analysis" / "train.ipynb").read_text(encoding="utf-8"))
    defaults = next("".join(c["source"]) for c in notebook["cells"]
                    if "parameters" in c.get("metadata", {}).get("tags", []))
    out = tmp_path / "results"
    namespace: dict = {}
    exec(defaults, namespace)  # noqa: S102 - the project's own template
    namespace.update(yaml.safe_load(content) or {})
    namespace["results_dir"] = str(out)
    with pytest.raises(LionpocError) as refused:
        RunConfig.from_namespace(namespace)
    assert message in str(refused.value)
    assert not out.exists()


@pytest.mark.slow
def test_a_bad_parameter_file_stops_the_notebook_run_by_hand(tmp_path, project_root):
    """The same check through papermill, as a user who runs the notebook by hand meets it."""
    params = tmp_path / "bad.yaml"
    params.write_text(LION_FILE + "epochs: ten\n")
    out = tmp_path / "results"
    done = subprocess.run([sys.executable, "-m", "papermill", "analysis/train.ipynb", str(tmp_path / "o.ipynb"),
                           "-f", str(params), "-p", "results_dir", str(out)],
                          cwd=project_root, env=ENV, capture_output=True, text=True, timeout=600)
    assert done.returncode != 0 and "parameter epochs must be of type int" in done.stderr
    assert not out.exists()


@pytest.mark.slow
def test_render_names_what_is_missing(tmp_path, project_root, results_dir, monkeypatch):
    """What is missing is named before Quarto is looked for: here Quarto is absent (whether or not this machine
    has it), so the render stops there, in a second. A real render of results that lack Adam, and what its
    report says of them, is test_results_integrity's notebook-run-by-hand test."""
    empty = lionpoc("render", "--results-dir", str(tmp_path / "none"), cwd=project_root)
    assert empty.returncode == 1 and "run `lionpoc study`" in error_line(empty)
    partial = tmp_path / "partial"
    shutil.copytree(results_dir, partial)
    shutil.rmtree(partial / "adam")
    monkeypatch.setattr(render, "quarto_binary", lambda: None)
    done = lionpoc("render", "--results-dir", str(partial), cwd=project_root)
    assert "no results for adam" in done.stdout and "lionpoc study --optimizers adam" in done.stdout
    assert done.returncode == 1 and "quarto command is not installed" in error_line(done)
    assert not (partial / "_output").exists()


def fake_quarto(tmp_path, script: str) -> dict:
    """An environment whose `quarto` is a shell script: what Quarto does, without Quarto."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "quarto"
    fake.write_text("#!/bin/sh\n" + script)
    fake.chmod(0o755)
    return {**ENV, "PATH": f"{bin_dir}{os.pathsep}{ENV['PATH']}"}


def test_a_failed_render_shows_quarto_s_last_words(tmp_path, project_root, results_dir):
    env = fake_quarto(tmp_path, "echo \"Executing 'index.quarto_ipynb'\"\necho \"Cell 3/23: 'tbl-split'...\"\n"
                                "echo 'An error occurred while executing the following cell:'\n"
                                "echo \"KeyError: 'adam'\"\nmkdir -p report/index_files\nexit 1\n")
    done = subprocess.run([sys.executable, "-m", "lionpoc.cli", "render", "--results-dir", str(results_dir)],
                          cwd=project_root, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "quarto render failed (exit code 1)" in error_line(done)
    assert "render: HTML: running the report's code cells" in done.stdout and "  KeyError: 'adam'" in done.stdout
    assert not (project_root / "report" / "index_files").exists()


def test_the_render_console_keeps_quarto_s_warnings_and_errors_only():
    shown = ["WARNING (index.qmd) Unable to resolve crossref @tbl-x", "[WARNING] Citeproc: citation knuth not found",
             "ERROR: KeyError: 'adam'", "error: unknown variable: foo"]
    hidden = ["Cell 3/23: 'tbl-split'................Done", "to: typst", "Output created: _output/report/index.html"]
    assert all(render.PROBLEM.search(line) for line in shown)
    assert not any(render.PROBLEM.search(line) for line in hidden)


def ignore_sigint():
    """Start a command as a shell's `&` does (or `nohup ... &`): with SIGINT ignored. lionpoc restores its
    handling, so the interruption tests hold however the test run itself was started."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_an_interrupted_render_leaves_nothing_beside_the_report(tmp_path, project_root, results_dir):
    # Quarto writes beside index.qmd while it renders (here, in the render's private copy of the sources);
    # this one then hangs until it is stopped.
    env = fake_quarto(tmp_path, "mkdir -p report/index_files/figure-html\ntouch report/index.html report/index.typ\n"
                                "echo \"Executing 'index.quarto_ipynb'\"\nsleep 60\n")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env["TMPDIR"] = str(scratch)
    process = subprocess.Popen([sys.executable, "-m", "lionpoc.cli", "render", "--results-dir", str(results_dir)],
                               cwd=project_root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=ignore_sigint)
    for line in process.stdout:
        if line.startswith("render: HTML: running the report's code cells"):
            process.send_signal(signal.SIGINT)
            break
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130 and "Traceback" not in stderr, stderr[-2000:]
    assert "lionpoc: interrupted; nothing partial was left." in stderr
    left = [name for name in render.INTERMEDIATES if (project_root / "report" / name).exists()]
    assert left == [] and (project_root / "report" / "index.qmd").is_file(), left
    assert [p.name for p in scratch.iterdir()] == []  # the private copy went with the render


def test_a_failed_write_keeps_the_previous_file(tmp_path, monkeypatch):
    target = tmp_path / "metrics.json"
    files.write_json(target, {"accuracy": 0.8})

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", disk_full)
    with pytest.raises(LionpocError, match="No space left on device; the previous version is intact"):
        files.write_csv(tmp_path / "metrics.json", pd.DataFrame({"a": [1]}))
    assert json.loads(target.read_text()) == {"accuracy": 0.8}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]


@pytest.mark.slow
def test_same_seed_gives_identical_files_and_corrupt_images_are_listed(tmp_path, synthetic_dir):
    data_dir = tmp_path / "dogs"
    shutil.copytree(synthetic_dir, data_dir)
    (data_dir / "n02096051-Airedale" / "broken.jpg").write_bytes(b"\xff\xd8\xff truncated")
    outputs = []
    for attempt in ("a", "b"):
        cfg = run_config("lion", grid={"learning_rate": [3e-4], "weight_decay": [0.1]}, epochs=6,
                        patience=3, image_size=71, weights="none", data_dir=str(data_dir),
                        results_dir=str(tmp_path / attempt), cache_dir=str(tmp_path / f"cache-{attempt}"))
        prep = runs.prepare(cfg, log=lambda *_: None)
        outputs.append(runs.run_seed(prep, 0, log=lambda *_: None).folder)
    a, b = (json.loads((o / "metrics.json").read_text()) for o in outputs)
    assert a["skipped_files"][0]["file"] == "n02096051-Airedale/broken.jpg"
    for key in layout.TIMING_KEYS + ("params",):
        a.pop(key, None), b.pop(key, None)
    assert a == b
    for name in ("predictions.csv", "confusion.csv", "classification_report.csv"):
        assert (outputs[0] / name).read_bytes() == (outputs[1] / name).read_bytes()
    history = [pd.read_csv(o / "history.csv").drop(columns="seconds") for o in outputs]
    pd.testing.assert_frame_equal(*history)



# ------------------------------------------------------------------ loss of data and blocked studies
@pytest.mark.slow
@pytest.mark.parametrize("args, message", [
    (["--data-dir", "/nonexistent/dogs", "--weights", "none"], "does not exist and could not be downloaded"),
    (["--optimizers", "adam", "--data-dir", "{synth}", "--weights", "/nonexistent/x.h5"], "does not exist"),
    (["--data-dir", "{synth}", "--split", "official", "--weights", "none"], "--split official needs"),
    (["--data-dir", "{synth}"], "ImageNet weights of Xception"),
])
def test_a_failing_real_study_leaves_the_smoke_results_exactly_as_they_were(smoke_results, tmp_path, project_root,
                                                                            synthetic_dir, args, message):
    out = tmp_path / "results"
    shutil.copytree(smoke_results, out)
    before = snapshot(out)
    args = [a.replace("{synth}", str(synthetic_dir)) for a in args]
    done = lionpoc("study", "--no-render", "--results-dir", str(out), *args, cwd=project_root)
    assert done.returncode == 1 and message in error_line(done)
    assert snapshot(out) == before and "removing the smoke results" not in done.stdout


@pytest.mark.slow
def test_a_real_study_replaces_every_smoke_result_and_skips_a_decompression_bomb(smoke_results, tmp_path,
                                                                                 project_root, synthetic_dir):
    from PIL import Image

    out = tmp_path / "results"
    shutil.copytree(smoke_results, out)
    data_dir = tmp_path / "dogs"
    shutil.copytree(synthetic_dir, data_dir)
    (data_dir / "SYNTHETIC.txt").unlink()  # seen as real photos, so that the study is a real one
    Image.new("1", (30000, 30000)).save(data_dir / "n02096051-Airedale" / "bomb.png")
    done = lionpoc("study", "--optimizers", "adam", "--seeds", "1", "--data-dir", str(data_dir), "--weights", "none",
                   "--image-size", "71", "--no-render", "--results-dir", str(out), cwd=project_root)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr and "DecompressionBombError" in done.stdout
    assert "n02096051-Airedale/bomb.png" in done.stdout
    assert not (out / "adamw").exists() and not (out / "lion").exists()  # no table describes them any more
    summary = pd.read_csv(out / "summary.csv")
    assert summary["optimizer"].tolist() == ["adam"]
    assert set(pd.read_csv(out / "runs.csv")["smoke"]) == {False}
    metrics = json.loads((out / "adam" / "seed-0" / "metrics.json").read_text())
    assert metrics["skipped_files"][0]["file"] == "n02096051-Airedale/bomb.png"


@pytest.fixture
def tiny_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    yield mount
    subprocess.run(["umount", str(mount)], capture_output=True)


@pytest.mark.slow
def test_a_full_disk_gives_one_sentence_and_no_partial_file(tiny_disk, project_root):
    out = tiny_disk / "results"
    done = lionpoc("study", "--smoke", "--no-render", "--results-dir", str(out), cwd=project_root)
    assert done.returncode == 1 and "No space left on device" in error_line(done)
    assert partial_files(tiny_disk) == []
    assert [str(p) for p in tiny_disk.rglob("*") if p.is_dir() and not any(p.iterdir())] == []  # no empty folder
    for metrics in tiny_disk.rglob("metrics.json"):  # what was written is whole: complete runs only
        assert json.loads(metrics.read_text())["optimizer"] and layout.is_complete(metrics.parent)
    for notebook in tiny_disk.rglob("*.ipynb"):
        json.loads(notebook.read_text())


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_study_ends_cleanly_and_resumes(tmp_path, project_root, signum):
    out = tmp_path / "results"
    args = [sys.executable, "-m", "lionpoc.cli", "study", "--smoke", "--optimizers", "adam,lion", "--jobs", "1",
            "--no-render", "--results-dir", str(out)]
    process = subprocess.Popen(args, cwd=project_root, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True, preexec_fn=ignore_sigint)
    for line in process.stdout:  # wait until adam is finished and saved
        if line.startswith("adam: notebook"):
            break
    # Then for a state, never for a time: Lion's execution has started (papermill writes its partial notebook
    # first) and its seed is not saved yet (its kernel is still importing TensorFlow, seconds on any machine).
    started = out / "lion" / ".training.partial.ipynb"
    deadline = time.monotonic() + 120
    while not started.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert started.exists() and not (out / "lion" / "seed-0").exists(), "Lion's execution was not seen running"
    os.killpg(process.pid, signum)  # Ctrl-C reaches the whole foreground group; SIGTERM, the process
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr[-2000:]
    assert "Traceback" not in stderr and "ZMQ" not in stderr
    # The message lists what the folder holds once every kernel has stopped, whatever the timing.
    on_disk = ", ".join(f"{r.optimizer} seed {r.seed}" for r in layout.find_runs(out).itertuples())
    assert f"interrupted; nothing partial was left; complete runs kept: {on_disk}." in stderr
    assert on_disk == "adam seed 0"
    assert layout.is_complete(out / "adam" / "seed-0") and not (out / "lion" / "seed-0").exists()
    assert partial_files(out) == []
    if signum != signal.SIGINT:
        return  # the folder is the same after either signal (asserted above): resuming it once is enough
    again = lionpoc("study", "--smoke", "--optimizers", "adam,lion", "--no-render", "--results-dir", str(out),
                    cwd=project_root)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "adam: all 1 seed(s) already done" in again.stdout and "read from the cache" in again.stdout
    assert "lion seed 0: chosen" in again.stdout and layout.is_complete(out / "lion" / "seed-0")


# ------------------------------------------------------------------ inputs that crash
def test_too_few_images_per_breed_is_refused_before_extraction(tmp_path, project_root):
    small = tmp_path / "small"
    made = lionpoc("synth", "--out", small, "--per-class", "10", "--size", "32", cwd=project_root)
    assert made.returncode == 0
    for folder in small.iterdir():  # 8 images per breed
        for image in sorted(folder.glob("*.jpg"))[8:]:
            image.unlink()
    (small / "SYNTHETIC.txt").unlink()
    done = lionpoc("study", "--data-dir", str(small), "--weights", "none", "--no-render",
                   "--results-dir", str(tmp_path / "r"), cwd=project_root)
    assert done.returncode == 1 and "each class needs at least 10" in error_line(done)
    assert "Xception features" not in done.stderr and not (tmp_path / "r").exists()


@pytest.mark.parametrize("args, message", [
    (["synth", "--per-class", "1", "--out", "{tmp}/s"], "--per-class must be at least 10"),
    (["synth", "--out", "{file}"], "is a file, not a folder"),
    # A side of 100,000 px needed 30 GB for one image (a MemoryError); a billion images filled the disk.
    (["synth", "--size", "100000", "--out", "{tmp}/s"], "--size at most 1024 pixels (what a study accepts; one image "
                                                        "of 100000 px would need 27.9 GiB), got 40 and 100000."),
    (["synth", "--per-class", "1000000000", "--out", "{tmp}/s"], "--per-class must be at most 5000"),
    (["bench", "--image-size", "10", "--results-dir", "{tmp}/b"], "--image-size must be at least 71"),
    (["bench", "--images", "0", "--results-dir", "{tmp}/b"], "--images must be at least 15"),
    (["study", "--smoke", "--jobs", "0", "--results-dir", "{tmp}/r"], "--jobs must be at least 1"),
])
def test_bad_command_values_get_one_sentence(tmp_path, project_root, args, message):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    args = [a.replace("{tmp}", str(tmp_path)).replace("{file}", str(blocker)) for a in args]
    done = lionpoc(*args, cwd=project_root)
    assert done.returncode == 1 and message in error_line(done)
    assert not (tmp_path / "b").exists() and not (tmp_path / "s").exists() and not (tmp_path / "r").exists()


def test_synth_on_a_read_only_filesystem(tmp_path, project_root):
    mount = tmp_path / "ro"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=100k", "tmpfs", str(mount)]).returncode != 0:
        pytest.skip("cannot mount a read-only tmpfs here (needs root)")
    try:
        done = lionpoc("synth", "--out", str(mount / "s"), cwd=project_root)
        assert done.returncode == 1 and "pass --out with a folder you can write to" in error_line(done)
    finally:
        subprocess.run(["umount", str(mount)])


@pytest.mark.parametrize("content, message", [
    (LION_ENTRY + "grid: {learning_rate: [0.0], weight_decay: [0.1]}\n", "grid.learning_rate must be > 0"),
    (LION_ENTRY + "grid: {learning_rate: [1.0e-4], weight_decay: [-0.1]}\n", "grid.weight_decay must be >= 0"),
    (LION_ENTRY + "grid: {learning_rate: [1.0e-4], l2: [0.1]}\n", "grid for lion (decay: decoupled) must have exactly"),
    (LION_ENTRY + "grid: {learning_rate: [.nan], weight_decay: [0.1]}\n", "grid.learning_rate must hold numbers"),
    (LION_FILE.replace("name: lion", "name: adam"), "the optimizer is named 'adam' but the file is named for 'lion'"),
    (LION_FILE.replace("lionpoc>Lion", "Lionn"), "unknown optimizer class 'Lionn'"),
    ("# emptied by mistake\n", "does not describe its optimizer"),
    # Numbers that are not finite, and arguments that would only fail (or train to NaN) inside the notebook.
    (LION_FILE.replace("beta_1: 0.9", "beta_1: .nan"), "optimizer.arguments.beta_1 is nan, which is not a finite number"),
    (LION_FILE.replace("beta_2: 0.99", "beta_2: -.inf"), "optimizer.arguments.beta_2 is -inf, which is not a finite"),
    (LION_FILE.replace("beta_1: 0.9", 'beta_1: "abc"'),
     "optimizer.arguments.beta_1 is 'abc', but lionpoc>Lion's beta_1 is a number (its default is 0.9)"),
    (LION_FILE.replace("lionpoc>Lion", "Adam").replace("beta_1: 0.9", "beta_1: 1.0"),
     "Adam with the arguments {'beta_1': 1.0, 'beta_2': 0.99} turns finite weights and gradients into NaN"),
    (LION_FILE.replace("class: lionpoc>Lion", "class: Optimizer").replace("arguments: {beta_1: 0.9, beta_2: 0.99}",
                                                                          "arguments: {}"),
     "`class: Optimizer` is Keras's base class of optimizers, which cannot train anything by itself"),
    (LION_FILE.replace("reference: chen2023lion", "reference: chen2023symbolic"),
     "`reference: chen2023symbolic` is not a key of"),
    (LION_FILE.replace("reference: chen2023lion", "fine_tune: {learning_rate_factors: [.inf]}\n  reference: chen2023lion"),
     "`fine_tune:` must be `{learning_rate_factors: [positive numbers]}`"),
])
def test_bad_parameter_files_name_the_file_and_the_key(tmp_path, project_root, content, message):
    project = copied_project(tmp_path, project_root, lion=content)
    done = lionpoc("study", "--smoke", "--optimizers", "lion", "--no-render", "--results-dir", tmp_path / "r",
                   cwd=project)
    line = error_line(done)
    assert done.returncode == 1 and message in line and "analysis/params/lion.yaml" in line
    assert not (tmp_path / "r").exists()


def test_another_models_weights_file_gives_one_short_message(tmp_path, project_root, synthetic_dir):
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    weights = tmp_path / "other.weights.h5"
    model.save_weights(weights)
    done = lionpoc("study", "--data-dir", str(synthetic_dir), "--weights", str(weights), "--image-size", "71",
                   "--results-dir", str(tmp_path / "r"), "--no-render", cwd=project_root)
    assert done.returncode == 1 and "does not hold the weights of Xception without its top" in error_line(done)
    assert len(done.stderr.splitlines()) <= 3 and "UserWarning" not in done.stderr


def test_a_weights_file_of_another_backbone_is_refused_before_anything(tmp_path, project_root, synthetic_dir):
    from lionpoc.model import features

    xception = tmp_path / "xception.weights.h5"
    features.build_base("none", 71).save_weights(xception)
    done = lionpoc("study", "--data-dir", str(synthetic_dir), "--backbone", "mobilenet_v2", "--weights", str(xception),
                   "--results-dir", str(tmp_path / "r"), "--no-render", cwd=project_root)
    assert done.returncode == 1 and not (tmp_path / "r").exists()
    assert "does not hold the weights of MobileNetV2 without its top, the backbone chosen with --backbone " \
           "mobilenet_v2" in error_line(done)
    assert len(done.stderr.splitlines()) <= 3 and "UserWarning" not in done.stderr


def test_download_offline_names_the_folder_the_user_gave(tmp_path, project_root):
    target = tmp_path / "my" / "dogs"
    done = lionpoc("download", "--data-dir", str(target), cwd=project_root)
    assert done.returncode == 1 and f"into {target} yourself" in error_line(done)


def test_the_baseline_is_skipped_with_a_note_when_the_classifier_weights_are_missing(monkeypatch, tmp_path):
    import socket

    from lionpoc.model import backbones, baseline

    def offline(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(socket, "create_connection", offline)
    monkeypatch.setenv("HOME", str(tmp_path))
    result = baseline.zero_training_accuracy(pd.DataFrame({"file": ["a.jpg"], "label": [0]}), tmp_path, "imagenet")
    assert result["available"] is False and backbones.spec().classifier_file in result["reason"]


# ------------------------------------------------------------------ round 4: what a parameter file, a cluster and a cache may not do
ADAM_FILE = (Path(__file__).resolve().parents[1] / "analysis" / "params" / "adam.yaml").read_text()


@pytest.mark.parametrize("lion_adds, message", [
    ("image_size: 96\n", "analysis/params/lion.yaml sets image_size: 96 while {adam} leaves image_size at 71"),
    ("train_fraction: 0.6\nval_fraction: 0.3\n", "analysis/params/lion.yaml sets train_fraction: 0.6 while {adam} "
                                                 "leaves train_fraction at 0.8"),
    ("epochs: 5\n", "analysis/params/lion.yaml sets epochs: 5 while {adam} leaves epochs at 30"),
    ("weights: imagenet\n", "analysis/params/lion.yaml sets weights: imagenet while {adam} leaves weights at none"),
    ("dropout: 0.5\n", "analysis/params/lion.yaml sets dropout: 0.5 while {adam} leaves dropout at 0.2"),
    ("split_seed: 3\n", "sets split_seed: 3"),
])
def test_a_study_whose_parameter_files_disagree_is_refused_before_any_work(tmp_path, project_root, lion_adds,
                                                                            message):
    """One optimizer on 96-px features against 71-px ones, on other test images, or with another budget: refused
    before the feature pass, naming the file and the key (only `optimizer:` and `grid:` may differ)."""
    project = copied_project(tmp_path, project_root, lion=LION_FILE + lion_adds)
    done = lionpoc("study", "--smoke", "--optimizers", "adam,lion", "--no-render", "--results-dir", tmp_path / "r",
                   cwd=project)
    line = error_line(done)
    adam = project / "analysis" / "params" / "adam.yaml"
    assert done.returncode == 1 and message.format(adam=adam) in line, line
    assert "only `optimizer:` and `grid:` may differ" in line
    assert not (tmp_path / "r").exists() and "features" not in done.stdout


def test_the_same_setting_in_every_file_is_accepted(tmp_path, project_root):
    from lionpoc.study import pipeline
    from lionpoc.study.options import StudyOptions

    project = copied_project(tmp_path, project_root, lion=LION_FILE + "epochs: 5\n", adam=ADAM_FILE + "epochs: 5\n")
    here = os.getcwd()
    os.chdir(project)
    try:
        study = pipeline.plan(StudyOptions(optimizers=("adam", "lion"), smoke=True, results_dir=tmp_path / "r"))
    finally:
        os.chdir(here)
    assert [c.epochs for c in study.configs] == [5, 5]


def test_a_run_whose_training_diverges_is_a_failed_run_not_a_result(tmp_path, synthetic_dir, results_dir):
    """SGD at a learning rate of 1e30: its loss overflows at once. The run fails with one sentence and leaves
    nothing; before, a test accuracy at chance was kept as the optimizer's result."""
    cfg = run_config("sgd", grid={"learning_rate": [1.0e30], "l2": [0.0]}, epochs=3, patience=1, image_size=71,
                     weights="none", data_dir=str(synthetic_dir), results_dir=str(tmp_path / "r"),
                     cache_dir=str(results_dir.parent / "cache"))  # the session study's features: no pass here
    prep = runs.prepare(cfg, log=lambda *_: None)
    assert prep.features.from_cache
    with pytest.raises(LionpocError) as failed:
        runs.run_seed(prep, 0, log=lambda *_: None)
    assert str(failed.value).startswith("sgd seed 0: the head training diverged, its loss is not a finite number at "
                                        "epoch 1 (learning_rate 1e+30, l2 0), so the run failed")
    assert "analysis/params/sgd.yaml" in str(failed.value)
    assert not (tmp_path / "r" / "sgd").exists() and layout.find_runs(tmp_path / "r").empty


def test_synth_never_mixes_its_images_into_another_folder(tmp_path, real_dir_or_photos):
    photos = real_dir_or_photos
    before = snapshot(photos)
    done = lionpoc("synth", "--out", photos, "--per-class", "10", "--size", "16", cwd=tmp_path)
    line = error_line(done)
    assert done.returncode == 1 and f"{photos} already holds {len(before)} file(s) that `lionpoc synth` did not " \
                                    "write" in line and "pass --out a new or empty folder" in line, line
    assert snapshot(photos) == before and not list(photos.parent.glob(f".{photos.name}.*"))


@pytest.fixture
def real_dir_or_photos(tmp_path):
    """A folder of photos: 3 breeds with 3 JPEGs each (real ones are not needed: what matters is that they are
    not synth's)."""
    from PIL import Image

    from lionpoc.data import breeds

    folder = tmp_path / "photos"
    for name in breeds.FOLDERS[:3]:
        (folder / name).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (20, 20), (i * 40, 90, 200)).save(folder / name / f"{breeds.wnid(name)}_{1000 + i}.jpg")
    return folder


def test_synth_replaces_its_own_earlier_set_whole(tmp_path):
    out = tmp_path / "s"
    assert lionpoc("synth", "--out", out, "--per-class", "12", "--size", "32", cwd=tmp_path).returncode == 0
    assert lionpoc("synth", "--out", out, "--per-class", "10", "--size", "16", cwd=tmp_path).returncode == 0
    from PIL import Image

    images = sorted(out.rglob("*.jpg"))
    assert len(images) == 150 and {Image.open(p).size for p in images} == {(16, 16)}  # none of the 32-px set left
    assert "10 per class, 16 px" in (out / "SYNTHETIC.txt").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]  # no staging folder left
    (out / "notes.txt").write_text("mine")
    done = lionpoc("synth", "--out", out, "--per-class", "10", cwd=tmp_path)
    assert done.returncode == 1 and "(e.g. notes.txt)" in error_line(done)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert lionpoc("synth", "--out", empty, "--per-class", "10", "--size", "16", cwd=tmp_path).returncode == 0
    assert len(list(empty.rglob("*.jpg"))) == 150


def test_weights_given_as_a_folder_say_so(tmp_path, project_root):
    done = lionpoc("study", "--smoke", "--no-render", "--weights", tmp_path, "--results-dir", tmp_path / "r",
                   cwd=project_root)
    line = error_line(done)
    assert done.returncode == 1 and f"--weights {tmp_path} is a folder; pass the weights file itself" in line, line
    assert not (tmp_path / "r").exists()


def test_a_refused_study_leaves_no_lock_no_log_and_points_to_no_log(tmp_path, monkeypatch, project_root):
    """Refused at its checks (here, weights that are a folder, seen once the results folder is locked): nothing
    left in the temporary folder, and the sentence points to no log holding only TensorFlow's start-up lines."""
    import tempfile

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    done = lionpoc("study", "--smoke", "--no-render", "--weights", tmp_path, "--results-dir", tmp_path / "r",
                   cwd=project_root)
    assert done.returncode == 1 and "log" not in error_line(done)
    assert sorted(p.name for p in scratch.iterdir()) == [] and not (tmp_path / "r").exists()


def test_the_results_lock_is_removed_when_released_and_can_be_taken_again(tmp_path, monkeypatch):
    import tempfile

    from lionpoc.study import checks

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    held = checks.lock_results(tmp_path / "r")
    with pytest.raises(LionpocError, match="another lionpoc study is writing into"):
        checks.lock_results(tmp_path / "r")
    checks.unlock(held)
    assert list(scratch.iterdir()) == []
    again = checks.lock_results(tmp_path / "r")
    checks.unlock(again)
    assert list(scratch.iterdir()) == []


def test_a_download_that_fails_leaves_no_empty_data_folder(tmp_path):
    target = tmp_path / "my" / "dogs"
    done = lionpoc("download", "--data-dir", target, cwd=tmp_path)
    assert done.returncode == 1 and f"into {target} yourself" in error_line(done)
    assert not (tmp_path / "my").exists()


def test_a_bench_that_stops_leaves_no_empty_results_folder(tmp_path, monkeypatch, project_root):
    """Interrupted after it made its results folder (here at once: the measurements themselves take minutes)."""
    from lionpoc import bench

    def interrupted(results_dir, *args, **kwargs):
        Path(results_dir).mkdir(parents=True)
        raise KeyboardInterrupt

    monkeypatch.setattr(bench, "run_benchmark", interrupted)
    done = lionpoc("bench", "--results-dir", tmp_path / "b" / "bench", cwd=project_root)
    assert done.returncode == 130 and "interrupted; nothing partial was left." in done.stderr
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize("damage, message", [
    ("binary", "parameter file {path} is not UTF-8 text (byte 2): save it as UTF-8 YAML."),
    ("folder", "parameter file {path} is a folder, not a YAML file."),
])
def test_a_parameter_file_that_is_not_text_is_one_sentence(tmp_path, project_root, damage, message):
    """A binary file (or one saved as Latin-1) raised a UnicodeDecodeError traceback; a folder was "unknown"."""
    project = copied_project(tmp_path, project_root)
    path = project / "analysis" / "params" / "lion.yaml"
    if damage == "binary":
        path.write_bytes(b"# \xe9t\xe9\n" + LION_FILE.encode())
    else:
        path.unlink()
        path.mkdir()
    done = lionpoc("study", "--smoke", "--optimizers", "lion", "--no-render", "--results-dir", tmp_path / "r",
                   cwd=project)
    assert done.returncode == 1 and error_line(done) == f"lionpoc: error: {message.format(path=path)}"


@pytest.mark.slow  # a kernel's start and first cell: half a minute here
def test_a_kernel_killed_during_its_execution_is_one_sentence(tmp_path, synthetic_dir, results_dir):
    """The system's out-of-memory killer (here, a kill once the kernel is seen running) ended the study with
    nbclient's DeadKernelError traceback; now one sentence, and no partial notebook."""
    import threading

    from lionpoc.study import execute

    cfg = run_config("lion", grid={"learning_rate": [3e-4], "weight_decay": [0.1]}, epochs=3, patience=1,
                     image_size=71, weights="none", data_dir=str(synthetic_dir), results_dir=str(tmp_path / "r"),
                     cache_dir=str(results_dir.parent / "cache"))
    kernels: set = set()
    partial = tmp_path / "r" / "lion" / ".training.partial.ipynb"

    def kill_once_running():
        # A state: the kernel has run the notebook's first cell (papermill saves the notebook after each cell).
        while not (kernels and partial.is_file() and '"execution_count": 1' in partial.read_text(errors="replace")):
            time.sleep(0.05)
        next(iter(kernels)).kill()

    killer = threading.Thread(target=kill_once_running, daemon=True)
    killer.start()
    with pytest.raises(LionpocError) as died:
        execute.execute(cfg, Path(__file__).resolve().parents[1], kernels=kernels)
    killer.join(timeout=60)
    assert str(died.value).startswith("the kernel of the lion notebook died (")
    assert "run the same command again to resume" in str(died.value)
    assert partial_files(tmp_path / "r") == [] and not (tmp_path / "r" / "lion" / "seed-0").exists()
