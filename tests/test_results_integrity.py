"""Results that cannot lie: through the real commands, a study or a render that would finish with wrong
numbers (runs from different inputs, stale tables, a damaged run or cache kept, another study's report)
either fixes them with a line saying so, or stops with one sentence and changes nothing."""
import json
import os
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from test_cli import ENV, error_line, fake_quarto, lionpoc, partial_files, snapshot


def copy_of(results: Path, tmp_path: Path) -> Path:
    """The study's results without any report rendered from them earlier (session results are shared by
    the render tests, which publish under them)."""
    out = tmp_path / "results"
    shutil.copytree(results, out, ignore=shutil.ignore_patterns("_output"))
    return out


def project_copy(tmp_path: Path, root: Path, shared_data: bool = True) -> Path:
    """The project's sources in a folder of their own (to change a parameter file); ``data/`` is the
    checkout's (its synthetic set and feature cache) unless ``shared_data`` is False."""
    project = tmp_path / "project"
    project.mkdir()
    for item in ("analysis", "report"):
        shutil.copytree(root / item, project / item)
    shutil.copy(root / "_quarto.yml", project)
    if shared_data:
        (project / "data").symlink_to(root / "data")
    return project


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ------------------------------------------------------------------ runs from different inputs
@pytest.mark.slow
@pytest.mark.parametrize("args, difference", [
    (["--image-size", "80"], "image_size 71, here 80"),
    (["--fine-tune"], "fine_tune False, here True"),
    (["--weights", "{junk}"], "weights none, here file:"),
])
def test_runs_from_other_inputs_are_never_compared(smoke_results, tmp_path, project_root, args, difference):
    out = copy_of(smoke_results, tmp_path)
    before = snapshot(out)
    junk = tmp_path / "other.weights.h5"
    junk.write_bytes(b"not weights")
    args = [a.replace("{junk}", str(junk)) for a in args]
    done = lionpoc("study", "--smoke", "--optimizers", "lion", "--no-render", "--results-dir", str(out), *args,
                   cwd=project_root)
    line = error_line(done)
    assert done.returncode == 1 and "holds runs made from other inputs" in line and difference in line, line
    assert "adam seed 0, adamw seed 0" in line and "--optimizers adam,adamw,lion" in line
    assert snapshot(out) == before and "Xception features" not in done.stderr  # refused before the feature pass


@pytest.mark.slow
def test_runs_made_from_other_images_are_refused_after_the_feature_pass(tmp_path, project_root, synthetic_dir):
    """The images changed (one added): only the feature key tells, so the refusal comes after the pass,
    still before anything in the results folder changes. A damaged feature cache is rebuilt on the way."""
    project = project_copy(tmp_path, project_root, shared_data=False)
    data_dir = tmp_path / "dogs"
    shutil.copytree(synthetic_dir, data_dir)
    out = tmp_path / "results"
    study = ["study", "--smoke", "--no-render", "--data-dir", str(data_dir), "--results-dir", str(out)]
    first = lionpoc(*study, "--optimizers", "adam", cwd=project)
    assert first.returncode == 0, first.stderr[-3000:]
    cache = next((project / "data" / "processed").glob("features-*.npz"))
    assert mode(cache) == 0o666 & ~layout_umask()  # a new cache follows the umask (it was 0600)
    # A cache cut short (a full disk, an interrupted copy), then an emptied one: rebuilt with a note.
    for damage, error in ((lambda b: b[: len(b) // 2], "BadZipFile"), (lambda b: b"", "EOFError")):
        cache.write_bytes(damage(cache.read_bytes()))
        again = lionpoc(*study, "--optimizers", "adam", cwd=project)
        assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr[-3000:]
        assert f"is unreadable ({error}" in again.stdout and "extracting again" in again.stdout
        assert "adam: all 1 seed(s) already done with the same inputs, kept" in again.stdout
        with np.load(cache) as rebuilt:
            assert len(rebuilt["files"]) == 180
    before = snapshot(out)
    shutil.copy(data_dir / "n02096051-Airedale" / "n02096051_00000.jpg", data_dir / "n02096051-Airedale" / "new.jpg")
    done = lionpoc(*study, "--optimizers", "lion", cwd=project)
    line = error_line(done)
    assert done.returncode == 1 and "holds runs made from other inputs than this study's (adam seed 0" in line, line
    assert "feature key of the images" in line
    assert snapshot(out) == before


@pytest.mark.slow
def test_a_run_done_again_says_why(smoke_results, tmp_path, project_root):
    """A changed grid, a metrics.json cut short, and one that lacks its test keys (valid JSON, so once "kept"
    and left out of the tables): the three runs are done again, each with a line saying why."""
    project = project_copy(tmp_path, project_root)
    params = project / "analysis" / "params" / "lion.yaml"
    described = yaml.safe_load(params.read_text())
    described["grid"] = {"learning_rate": [1.0e-4, 3.0e-4], "weight_decay": [0.1, 0.3, 1.0]}
    params.write_text(yaml.safe_dump(described))
    out = copy_of(smoke_results, tmp_path)
    metrics_path = out / "adam" / "seed-0" / "metrics.json"
    metrics = json.loads(metrics_path.read_text())
    for key in ("test_accuracy", "test_macro_f1", "test_correct"):
        metrics.pop(key)
    metrics_path.write_text(json.dumps(metrics))
    (out / "adamw" / "seed-0" / "metrics.json").write_text('{"test_accuracy": 0.5,')
    done = lionpoc("study", "--smoke", "--no-render", "--results-dir", str(out), cwd=project)
    assert done.returncode == 0, done.stderr[-3000:]
    assert ("adamw seed 0: its metrics.json is damaged; the run will be done again (not readable as JSON)"
            in done.stdout)
    assert "already done with the same inputs, kept" not in done.stdout
    assert ("adam seed 0: its metrics.json is damaged; the run will be done again (it lacks test_accuracy, "
            "test_macro_f1)") in done.stdout
    shipped = yaml.safe_load((project_root / "analysis" / "params" / "lion.yaml").read_text())["grid"]
    old_grid = "{" + ", ".join(f"{k}: [{', '.join(f'{v:g}' for v in values)}]" for k, values in shipped.items()) + "}"
    assert (f"lion seed 0: done again, its inputs changed (grid {old_grid}, here {{learning_rate: [0.0001, 0.0003], "
            "weight_decay: [0.1, 0.3, 1]}" in done.stdout), done.stdout
    tuning = pd.read_csv(out / "lion" / "seed-0" / "tuning.csv")
    assert (tuning["round"] == 0).sum() == 6  # the new grid (then its bracketing extensions, if any)
    assert pd.read_csv(out / "summary.csv")["optimizer"].tolist() == ["adam", "adamw", "lion"]
    for name in ("adam", "adamw"):
        assert json.loads((out / name / "seed-0" / "metrics.json").read_text())["optimizer"] == name
    for path in (metrics_path, out / "lion" / "training.ipynb", out / "lion" / "training.html", out / "summary.csv"):
        assert mode(path) == 0o666 & ~layout_umask(), path  # written by the study: readable as the umask allows


def test_image_size_has_an_upper_bound(tmp_path, project_root):
    done = lionpoc("study", "--smoke", "--no-render", "--image-size", "100000", "--results-dir", str(tmp_path / "r"),
                   cwd=project_root)
    assert done.returncode == 1 and "image_size must be at most 1024 pixels" in error_line(done)
    bench = lionpoc("bench", "--image-size", "100000", "--results-dir", str(tmp_path / "b"),
                    cwd=project_root)
    assert bench.returncode == 1 and "--image-size must be at most 1024 pixels" in error_line(bench)
    assert not (tmp_path / "r").exists() and not (tmp_path / "b").exists()


# ------------------------------------------------------------------ what the report shows
def test_a_split_edited_by_hand_is_refused_at_render(tmp_path, project_root, results_dir):
    out = copy_of(results_dir, tmp_path)
    split = pd.read_csv(out / "split.csv")
    tested = int((split["split"] == "test").sum())
    split.drop(index=split.index[split["split"] == "test"][:10]).to_csv(out / "split.csv", index=False)
    done = lionpoc("render", "--results-dir", str(out), cwd=project_root)
    line = error_line(done)
    assert done.returncode == 1 and f"split.csv lists {tested - 10} test images but the runs were tested on {tested}" in line, line
    assert "it keeps the runs and rewrites it" in line and not (out / "_output").exists()


@pytest.mark.slow
def test_runs_from_different_inputs_are_refused_at_render(tmp_path, project_root, synthetic_dir, results_maker):
    """A folder assembled from two studies (or a notebook run by hand with other parameters)."""
    out, other = tmp_path / "results", tmp_path / "other"
    results_maker(out, synthetic_dir, tmp_path / "cache", seeds=(0,), optimizers=("adam",), epochs=3)
    results_maker(other, synthetic_dir, tmp_path / "cache", seeds=(0,), optimizers=("lion",), image_size=80, epochs=3)
    shutil.copytree(other / "lion", out / "lion")  # the study itself refuses this (see above); by hand it happens
    done = lionpoc("render", "--results-dir", str(out), cwd=project_root)
    line = error_line(done)
    assert done.returncode == 1 and "were made from different inputs (lion seed 0: image_size 80" in line, line


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("quarto") is None, reason="the quarto command is not installed here")
def test_a_notebook_run_by_hand_then_render_shows_exactly_the_runs_present(smoke_results, tmp_path, project_root):
    """AdamW run by hand with papermill into a study that lacks it, Adam's predictions deleted: the report's
    tables are those of the runs present (AdamW and Lion), no stale pairs, no KeyError."""
    out = copy_of(smoke_results, tmp_path)
    shutil.rmtree(out / "adamw")
    (out / "adam" / "seed-0" / "predictions.csv").unlink()
    hand = subprocess.run([sys.executable, "-m", "papermill", "analysis/train.ipynb", str(tmp_path / "adamw.ipynb"),
                           "-f", "analysis/params/adamw.yaml", "-p", "smoke", "True", "-p", "results_dir", str(out)],
                          cwd=project_root, env=ENV, capture_output=True, text=True, timeout=1200)
    assert hand.returncode == 0, hand.stderr[-3000:]
    done = lionpoc("render", "--results-dir", str(out), cwd=project_root, timeout=900)
    assert done.returncode == 0 and "Traceback" not in done.stderr + done.stdout, done.stdout[-3000:] + done.stderr
    assert "no results for adam;" in done.stdout
    html = (out / "_output" / "report" / "index.html").read_text(encoding="utf-8")
    # French typography: a narrow no-break space before the colon (report/french.lua).
    assert "Tableaux à recalculer" not in html and "Il manque les résultats de\u202f: Adam." in html
    from lionpoc.report import data

    shown = data.load(out)
    assert shown.summary["optimizer"].tolist() == ["adamw", "lion"]
    assert shown.pairs[["a", "b"]].values.tolist() == [["lion", "adamw"]]  # focus − rival


# ------------------------------------------------------------------ two studies, read-only results, modes
REPORT_OF = ("mkdir -p _output/report report/index_files\nsleep 2\n"
             "echo \"$LIONPOC_RESULTS\" > report/index.html\nsleep 2\n"
             "cp report/index.html _output/report/index.html\necho pdf > _output/report/index.pdf\n")


@pytest.mark.slow
def test_two_renders_at_once_each_publish_their_own_report(tmp_path, project_root, results_dir):
    """Quarto (here a stand-in that writes beside index.qmd, waits, then publishes) run for two studies at
    once: each render works in its own copy of the sources and publishes under its own results folder."""
    env = fake_quarto(tmp_path, REPORT_OF)
    first, second = copy_of(results_dir, tmp_path / "a"), copy_of(results_dir, tmp_path / "b")
    done = {}

    def render(folder):
        done[folder] = subprocess.run([sys.executable, "-m", "lionpoc.cli", "render", "--results-dir", str(folder)],
                                      cwd=project_root, env=env, capture_output=True, text=True, timeout=300)

    threads = [threading.Thread(target=render, args=(folder,)) for folder in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for folder in (first, second):
        assert done[folder].returncode == 0, done[folder].stderr[-2000:]
        assert (folder / "_output" / "report" / "index.html").read_text().strip() == str(folder)
        assert f"render: wrote {folder / '_output' / 'report' / 'index.html'}" in done[folder].stdout
        assert (folder / "_output" / "results" / "lion" / "training.ipynb").is_file()
    assert not (project_root / "report" / "index_files").exists()


@pytest.mark.slow
def test_two_smoke_studies_at_once_share_one_synthetic_set(tmp_path, project_root):
    """Two first smoke studies in a fresh checkout, started together: both make the synthetic set, one
    rename wins, the other is dropped; both studies finish on the same 900 images and nothing partial is left."""
    project = project_copy(tmp_path, project_root, shared_data=False)
    commands = [[sys.executable, "-m", "lionpoc.cli", "study", "--smoke", "--optimizers", "adam", "--no-render",
                 "--results-dir", str(tmp_path / name)] for name in ("one", "two")]
    processes = [subprocess.Popen(c, cwd=project, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for c in commands]
    outputs = [p.communicate(timeout=900) for p in processes]
    for process, (stdout, stderr) in zip(processes, outputs):
        assert process.returncode == 0, stderr[-3000:]
    synthetic = project / "data" / "synthetic"
    assert (synthetic / "SYNTHETIC.txt").is_file() and len(list(synthetic.rglob("*.jpg"))) == 900
    assert [p.name for p in (project / "data").iterdir() if p.name.startswith(".")] == []
    assert (tmp_path / "one" / "split.csv").read_bytes() == (tmp_path / "two" / "split.csv").read_bytes()
    assert partial_files(project / "data") == []


def test_the_same_results_folder_is_never_written_by_two_studies_at_once(tmp_path, project_root):
    from lionpoc.study import checks

    out = tmp_path / "results"
    held = checks.lock_results(out)  # as a running study holds it
    try:
        done = lionpoc("study", "--smoke", "--no-render", "--results-dir", str(out), cwd=project_root)
        assert done.returncode == 1 and f"another lionpoc study is writing into {out}" in error_line(done)
        assert not out.exists()
    finally:
        held.close()


@pytest.mark.parametrize("command, folder", [
    ("study", "."), ("study", "report"), ("study", "analysis/params"),
    ("render", "."),  # publishing the report into the project would replace report/, its sources
])
def test_results_and_reports_never_go_into_the_project_s_own_folders(project_root, results_dir, command, folder):
    before = sorted(p.name for p in (project_root / "report").iterdir())
    args = (["study", "--smoke", "--no-render", "--results-dir", folder] if command == "study"
            else ["render", "--results-dir", str(results_dir), "--output-dir", folder])
    done = lionpoc(*args, cwd=project_root)
    assert done.returncode == 1 and "would mix with the project's own" in error_line(done)
    assert sorted(p.name for p in (project_root / "report").iterdir()) == before


@pytest.fixture
def read_only_copy(tmp_path, results_dir):
    """The smoke study on a file system mounted read-only (root can write through chmod, not through this)."""
    mount = tmp_path / "ro"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(mount)]).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    shutil.copytree(results_dir, mount / "results")
    subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
    yield mount / "results"
    subprocess.run(["umount", str(mount)])


@pytest.mark.slow
def test_read_only_results_can_be_rendered(tmp_path, project_root, read_only_copy):
    env = fake_quarto(tmp_path, REPORT_OF)
    scratch = tmp_path / "tmp"  # where the render's log goes when the results are read-only
    scratch.mkdir()
    env["TMPDIR"] = str(scratch)
    args = [sys.executable, "-m", "lionpoc.cli", "render", "--results-dir", str(read_only_copy)]
    refused = subprocess.run(args, cwd=project_root, env=env, capture_output=True, text=True, timeout=120)
    line = error_line(refused)
    assert refused.returncode == 1 and "Read-only file system" in line and "pass --output-dir" in line, line
    report = tmp_path / "report"
    done = subprocess.run(args + ["--output-dir", str(report)], cwd=project_root, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (report / "report" / "index.html").read_text().strip() == str(read_only_copy)
    assert (report / "results" / "adam" / "training.ipynb").is_file()
    assert list(scratch.iterdir()) == []  # no log left behind once the render succeeded


@pytest.mark.slow
def test_files_follow_the_umask(tmp_path, project_root, results_dir):
    """Tables, metrics, notebooks and the published report are readable as the umask allows (they were all
    0600 once): the results were written under the test's umask, the render and synth below under 027."""
    expected = 0o666 & ~layout_umask()
    for path in (results_dir / "summary.csv", results_dir / "lion" / "seed-0" / "metrics.json",
                 results_dir / "lion" / "seed-0" / "predictions.csv", results_dir / "study.json"):
        assert mode(path) == expected, (path, oct(mode(path)))
    env = fake_quarto(tmp_path, REPORT_OF)
    out = copy_of(results_dir, tmp_path)
    strict = lambda: os.umask(0o027)  # noqa: E731
    subprocess.run([sys.executable, "-m", "lionpoc.cli", "render", "--results-dir", str(out)], cwd=project_root,
                   env=env, capture_output=True, timeout=120, check=True, preexec_fn=strict)
    subprocess.run([sys.executable, "-m", "lionpoc.cli", "synth", "--out", str(tmp_path / "s"), "--per-class", "10",
                    "--size", "16"], cwd=project_root, env=ENV, capture_output=True, timeout=120, check=True,
                   preexec_fn=strict)
    for path in (out / "_output" / "report" / "index.html", out / "_output" / "results" / "lion" / "training.ipynb",
                 tmp_path / "s" / "SYNTHETIC.txt"):
        assert mode(path) == 0o640, (path, oct(mode(path)))


def layout_umask() -> int:
    from lionpoc import files

    return files.umask()


@pytest.mark.slow
def test_runs_copied_renamed_or_edited_by_hand_are_named_not_counted(tmp_path, project_root, results_dir):
    """A backup copy `lion-old/`, a seed folder copied to stand for another seed, an accuracy edited in
    metrics.json: each would have counted in the tables; each is named as damaged and left out."""
    out = copy_of(results_dir, tmp_path)
    shutil.copytree(out / "lion", out / "lion-old")
    shutil.copytree(out / "adam" / "seed-1", out / "adam" / "seed-2")
    edited = out / "adamw" / "seed-0" / "metrics.json"
    metrics = json.loads(edited.read_text())
    metrics["test_accuracy"] = 0.99
    edited.write_text(json.dumps(metrics))
    from lionpoc.report import data

    shown = data.load(out)
    named = sorted(f"{Path(x['path']).parent.name}/{x['seed']}: {x['reason'][:40]}" for x in shown.damaged)
    assert len(named) == 4 and named[0].startswith("adam/2: metrics.json: it belongs to adam seed 1"), named
    assert "test accuracy 0.9900 is not that of its predictions" in next(x["reason"] for x in shown.damaged
                                                                          if x["optimizer"] == "adamw")
    assert shown.summary.set_index("optimizer")["n_seeds"].to_dict() == {"adam": 2, "adamw": 1, "lion": 2}
    env = fake_quarto(tmp_path, REPORT_OF)
    done = subprocess.run([sys.executable, "-m", "lionpoc.cli", "render", "--results-dir", str(out)],
                          cwd=project_root, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_seeds_of_one_optimizer_with_different_grids_are_refused_at_render(tmp_path, project_root, results_dir):
    """`--seeds 1` after a grid change redoes seed 0 and keeps seed 1 (the study refuses that too): the report
    would print one grid for runs made with two."""
    out = copy_of(results_dir, tmp_path)
    path = out / "lion" / "seed-1" / "metrics.json"
    metrics = json.loads(path.read_text())
    metrics["params"]["grid"]["learning_rate"] = [1e-3]
    path.write_text(json.dumps(metrics))
    done = lionpoc("render", "--results-dir", str(out), cwd=project_root)
    line = error_line(done)
    assert done.returncode == 1 and "(lion seed 1: grid {learning_rate: [0.001]" in line, line
    assert "against lion seed 0's {learning_rate: [0.0003]" in line


# ------------------------------------------------------------------ round 4: the render's refusals and its final copy
def test_a_garbled_study_record_is_refused_with_the_study_s_own_command(tmp_path, project_root, results_dir):
    """A `study.json` cut short: the report would say "study.json absent"; the render says it is damaged and
    how to rewrite it, with the study's own options (read from its runs) and the runs kept."""
    out = copy_of(results_dir, tmp_path)
    (out / "study.json").write_text('{"optimizers": ["adam", "adamw", "li')
    done = lionpoc("render", "--results-dir", out, cwd=project_root)
    line = error_line(done)
    assert done.returncode == 1 and f"{out}/study.json is damaged (not JSON): run `lionpoc study --optimizers " \
                                    "adam,adamw,lion --smoke --seeds 2" in line, line
    assert f"--results-dir {out}` again, which keeps the runs and rewrites it" in line
    assert not (out / "_output").exists()
    (out / "study.json").write_text("[1, 2]")
    assert "is damaged (not a JSON mapping)" in error_line(lionpoc("render", "--results-dir", out,
                                                                   cwd=project_root))


def test_runs_from_other_inputs_are_refused_at_render_with_the_study_s_own_options(tmp_path, project_root,
                                                                                   results_dir):
    """`epochs:` changed for one run: the remedy keeps --smoke, the seeds and the data (it used to drop them and
    so started the real study)."""
    out = copy_of(results_dir, tmp_path)
    path = out / "lion" / "seed-1" / "metrics.json"
    metrics = json.loads(path.read_text())
    metrics["params"]["epochs"] = 5
    path.write_text(json.dumps(metrics))
    done = lionpoc("render", "--results-dir", out, cwd=project_root)
    line = error_line(done)
    record = json.loads((out / "study.json").read_text())
    assert done.returncode == 1 and "(lion seed 1: epochs 5 against adam seed 0's 15)" in line, line
    assert f"run `lionpoc study --optimizers adam,adamw,lion --smoke --seeds 2 --data-dir {record['data_dir']} " \
           f"--image-size 71 --backbone xception --results-dir {out} --force` to redo them all" in line


def test_a_full_disk_during_the_render_s_final_copy_is_one_sentence(tmp_path, project_root, results_dir, monkeypatch):
    """Quarto (a stand-in writing a 600-kB report) succeeds; the report's folder is on a 400-kB disk."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        env = fake_quarto(tmp_path, "mkdir -p _output/report\nhead -c 600000 /dev/urandom > _output/report/index.html\n"
                                    "echo pdf > _output/report/index.pdf\n")
        monkeypatch.setenv("PATH", env["PATH"])
        out = copy_of(results_dir, tmp_path)
        done = lionpoc("render", "--results-dir", out, "--output-dir", mount / "site", cwd=project_root)
        line = error_line(done)
        assert done.returncode == 1 and line == (
            f"lionpoc: error: the report was rendered but could not be copied into {mount / 'site'} (No space left "
            "on device), so it holds no report now: free some space (or pass --output-dir) and run `lionpoc render` "
            "again."), line
        assert "lionpoc-render-" not in line and "previous version is intact" not in line
        assert partial_files(mount) == [] and not (mount / "site").exists()  # no empty folder either
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True)


def test_a_failed_render_leaves_no_empty_report_folder(tmp_path, project_root, results_dir, monkeypatch):
    monkeypatch.setenv("PATH", fake_quarto(tmp_path, "echo 'ERROR: broken'\nexit 1\n")["PATH"])
    out = copy_of(results_dir, tmp_path)
    done = lionpoc("render", "--results-dir", out, "--output-dir", tmp_path / "site" / "lionpoc",
                   cwd=project_root)
    assert done.returncode == 1 and "quarto render failed (exit code 1)" in error_line(done)
    assert not (tmp_path / "site").exists()


def test_runs_made_by_other_code_are_not_compared_at_render(tmp_path, project_root, results_dir):
    """A seed trained by an edited checkout (or a worker with another install) copied beside the others."""
    out = copy_of(results_dir, tmp_path)
    path = out / "lion" / "seed-1" / "metrics.json"
    metrics = json.loads(path.read_text())
    here = metrics["code"]["sha256"]
    metrics["code"] = {**metrics["code"], "sha256": "0123456789abcdef", "commit": "another"}
    path.write_text(json.dumps(metrics))
    done = lionpoc("render", "--results-dir", out, cwd=project_root)
    line = error_line(done)
    assert done.returncode == 1 and f"(lion seed 1: lionpoc code 0123456789abcdef against adam seed 0's {here})" in line
    metrics["code"] = {**metrics["code"], "sha256": here}  # the same sources under another commit: the same code
    path.write_text(json.dumps(metrics))
    from lionpoc.study import checks

    checks.mixed_inputs(out)
