"""The study on a Dask cluster, through the real commands: a LocalCluster gives the same numbers as one
machine, survives a worker killed mid-execution, and an unreachable scheduler is one sentence."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from pathlib import Path

import lionpoc as lionpoc_package
from lionpoc import report
import cli_runner
from test_cli import error_line
from lionpoc.model import features
from lionpoc.report import prose

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
STUDY = ("study", "--smoke", "--no-render", "--optimizers", "adamw,lion", "--seeds", "2")


def lionpoc(*args, cwd, timeout=900):
    return subprocess.run([sys.executable, "-m", "lionpoc.cli", *args], cwd=cwd, env=ENV, capture_output=True,
                          text=True, timeout=timeout)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def outcome(results) -> pd.DataFrame:
    """What must not depend on where the study ran: per run, the chosen configuration and the test scores."""
    rows = [json.loads(path.read_text()) for path in sorted(results.glob("*/seed-*/metrics.json"))]
    keys = ["optimizer", "seed", "learning_rate", "weight_decay", "l2", "test_accuracy", "test_macro_f1",
            "epochs_run", "best_epoch", "run_key"]
    return pd.DataFrame(rows)[keys].sort_values(["optimizer", "seed"], ignore_index=True)


@pytest.fixture(scope="module")
def local_study(tmp_path_factory, project_root):
    out = tmp_path_factory.mktemp("local") / "results"
    done = lionpoc(*STUDY, "--results-dir", str(out), cwd=project_root)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


@pytest.mark.slow
def test_an_unreachable_scheduler_is_one_sentence_and_writes_nothing(tmp_path, project_root):
    out = tmp_path / "results"
    port = free_port()  # nothing listens there
    done = cli_runner.run("study", "--smoke", "--no-render", "--cluster", f"tcp://127.0.0.1:{port}", "--results-dir",
                          str(out), cwd=project_root)
    assert done.returncode == 1, done.stderr[-2000:]
    assert "Traceback" not in done.stderr + done.stdout
    errors = [line for line in done.stderr.splitlines() if line.startswith("lionpoc: error:")]
    assert len(errors) == 1 and f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}" in errors[0]
    assert not out.exists()


@pytest.mark.parametrize("args, message", [
    (["--cluster", "local:0"], "a local cluster is written local:N"),
    (["--cluster", "somewhere"], "give a scheduler address such as tcp://host:8786"),
    (["--scheduler-file", "/nonexistent/scheduler.json"], "the scheduler file /nonexistent/scheduler.json does not exist"),
    # What the scheduler did not write (they took 10 s, then an AssertionError or a TypeError).
    (["--scheduler-file", "{tmp}/empty.json"], "the scheduler file {tmp}/empty.json is empty: the scheduler has not "
                                               "written it yet, or it was cut short"),
    (["--scheduler-file", "{tmp}/garbled.json"], "the scheduler file {tmp}/garbled.json is not a scheduler file (not JSON)"),
    (["--scheduler-file", "{tmp}/list.json"], "the scheduler file {tmp}/list.json holds no scheduler address"),
    (["--scheduler-file", "{tmp}/other.json"], "the scheduler file {tmp}/other.json holds no scheduler address"),
    (["--scheduler-file", "{tmp}"], "--scheduler-file {tmp} is a folder; give the file the scheduler wrote"),
])
def test_bad_cluster_options_are_one_sentence(tmp_path, project_root, args, message, monkeypatch):
    import distributed

    def no_connection(*args, **kwargs):
        raise AssertionError("a connection was tried: each of these is said before any")

    monkeypatch.setattr(distributed, "Client", no_connection)
    (tmp_path / "empty.json").write_text("")
    (tmp_path / "garbled.json").write_text('{"address": "tcp://127.0.0.1:87')
    (tmp_path / "list.json").write_text('["tcp://127.0.0.1:8786"]')
    (tmp_path / "other.json").write_text('{"type": "Scheduler", "id": "x"}')
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    done = cli_runner.run("study", "--smoke", "--no-render", *args, "--results-dir", tmp_path / "r",
                          cwd=project_root)
    assert done.returncode == 1 and message.replace("{tmp}", str(tmp_path)) in error_line(done)
    assert not (tmp_path / "r").exists()


def test_workers_running_other_code_are_refused_before_any_work(tmp_path, project_root):
    """A worker whose lionpoc has a changed grid.py: its runs would be mixed with this code's under the same
    run key. The study compares each worker's code identity with its own and refuses before any work."""
    other = tmp_path / "other-src"
    shutil.copytree(Path(lionpoc_package.__file__).parents[1], other,
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    grid = other / "lionpoc" / "model" / "grid.py"
    grid.write_text(grid.read_text() + "\n# changed on this worker only\n")
    scheduler_file = tmp_path / "scheduler.json"
    dask = str(Path(sys.executable).parent / "dask")
    scheduler = subprocess.Popen([dask, "scheduler", "--scheduler-file", str(scheduler_file), "--port", "0",
                                  "--dashboard-address", ":0"], env=ENV, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
    worker = None
    try:
        deadline = time.monotonic() + 120
        while not scheduler_file.is_file() and time.monotonic() < deadline:  # a state: the file it writes
            time.sleep(0.1)
        worker = subprocess.Popen([dask, "worker", "--scheduler-file", str(scheduler_file), "--nthreads", "1",
                                   "--no-dashboard"], env={**ENV, "PYTHONPATH": str(other)},
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for line in worker.stderr:  # a state again: the worker says it has registered
            if "Registered to" in line:
                break
        done = cli_runner.run("study", "--smoke", "--no-render", "--scheduler-file", scheduler_file, "--results-dir",
                              tmp_path / "r", cwd=project_root)
        line = error_line(done)
        assert done.returncode == 1 and f"1 of the 1 worker(s) of {scheduler_file} run other lionpoc code than this " \
                                        "checkout" in line, line
        assert "install this checkout on every worker" in line and not (tmp_path / "r").exists()
    finally:
        for process in (worker, scheduler):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)


def test_executions_are_one_per_run_when_all_fit_at_once_else_an_optimizers_seeds_grouped_longest_first():
    from lionpoc.study.cluster import plan

    adam, adamw, lion = object(), object(), object()
    pairs = [(cfg, seed) for cfg in (adam, adamw, lion) for seed in range(3)]
    assert plan(pairs, 9) == [(cfg, [seed]) for cfg, seed in pairs]  # all at once: one execution each
    # 9 runs, 3 at once (2 slots x 1.5): the three executions of one machine's study
    assert plan(pairs, 3) == [(adam, [0, 1, 2]), (adamw, [0, 1, 2]), (lion, [0, 1, 2])]
    # 9 runs, 4 at once: groups of 3 seeds at most, cut where an optimizer ends
    assert plan(pairs, 4) == [(adam, [0, 1, 2]), (adamw, [0, 1, 2]), (lion, [0, 1, 2])]
    assert plan(pairs[:4], 3) == [(adam, [0, 1]), (adam, [2]), (adamw, [0])]
    many = [(cfg, seed) for cfg in (adam, adamw, lion) for seed in range(10)]
    tasks = plan(many, 6)  # 3 optimizers x 10 seeds, 6 at once: 6 executions of 5 seeds
    assert [len(seeds) for _, seeds in tasks] == [5] * 6
    assert sorted((id(cfg), seed) for cfg, seeds in tasks for seed in seeds) == sorted((id(c), s) for c, s in many)
    assert [len(seeds) for _, seeds in plan(many, 8)] == [4, 4, 4, 4, 4, 4, 2, 2, 2]  # longest first
    assert plan(many, 30) == [(cfg, [seed]) for cfg, seed in many]


def test_shards_fall_on_whole_batches():
    parts = features.shards(900, 2, 32)
    assert [(p.start, p.stop) for p in parts] == [(0, 480), (480, 900)]
    assert [len(p) for p in features.shards(70, 8, 32)] == [32, 32, 6]  # never more shards than batches
    assert sum(len(p) for p in features.shards(5, 3, 32)) == 5


@pytest.mark.slow
def test_a_smoke_study_on_a_local_cluster_gives_the_same_numbers(local_study, tmp_path, project_root):
    out = tmp_path / "results"
    done = lionpoc(*STUDY, "--cluster", "local:2", "--results-dir", str(out), cwd=project_root)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "cluster: 2 worker(s), 2 thread(s), 0 GPU(s) on 1 host(s)" in done.stdout
    pd.testing.assert_frame_equal(pd.read_csv(out / "split.csv"), pd.read_csv(local_study / "split.csv"))
    pd.testing.assert_frame_equal(outcome(out), outcome(local_study))
    for name in ("adamw", "lion"):
        for seed in (0, 1):  # each seed's executed notebook, kept in its run folder
            assert (out / name / f"seed-{seed}" / "training.ipynb").is_file()
            assert (out / name / f"seed-{seed}" / "training.html").is_file()
            assert (out / "logs" / f"{name}-seed-{seed}.log").is_file()
        view = json.loads((out / name / "training.ipynb").read_text())  # the per-optimizer view of both seeds
        images = [o for c in view["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])
                  if "image/png" in o.get("data", {})]
        assert len(images) == 2  # drawn once per optimizer: every seed's curves, the confusion summed over seeds
    metrics = json.loads((out / "lion" / "seed-0" / "metrics.json").read_text())
    assert metrics["params"]["results_dir"] == str(out)  # not the worker's temporary folder
    study = json.loads((out / "study.json").read_text())
    cluster = study["cluster"]
    assert cluster["workers"] == 2 and cluster["threads"] == 2 and cluster["hosts"] == ["127.0.0.1"]
    # 4 runs, 3 at a time (2 task slots x 1.5): an optimizer's 2 seeds in one execution, 2 kernels instead of 4
    assert sorted(t["task"] for t in cluster["tasks"] if "execution" in t["task"]) == [
        f"the {name} seeds 0, 1 execution" for name in ("adamw", "lion")]
    assert all(t["seconds"] > 0 for t in cluster["tasks"]) and cluster["idle_seconds"] >= 0
    assert sorted((e["optimizer"], e["seeds"]) for e in study["executions"]) == [("adamw", [0, 1]), ("lion", [0, 1])]
    assert "4 (optimizer, seed) run(s) in 2 notebook execution(s) of analysis/train.ipynb with papermill on the " \
           "cluster, 3 at a time on its 2 task slot(s)" in done.stdout
    assert not [p for p in out.rglob("*") if ".partial" in p.name or ".tmp" in p.name]
    from report_text import document  # the report's text, index.qmd run on these results

    text = " ".join(document(report.load(out), spaces=False).replace("\u00a0", " ").replace("\u202f", " ").split())
    assert "grappe Dask de 2 travailleurs (2 fils d'exécution, sans GPU, 1 machine)" in text
    assert "4 graines en 2 exécutions du carnet" in text
    assert "est publié avec ce rapport : [AdamW, graine 0](../results/adamw/seed-0/training.html), " in text
    assert "[Lion, graine 1](../results/lion/seed-1/training.html)." in text


def test_a_study_on_one_machine_says_nothing_of_a_cluster(results_dir):
    from report_text import document

    assert prose.cluster_links(report.load(results_dir)) == ""
    assert "grappe Dask" not in document(report.load(results_dir))


@pytest.mark.slow
def test_a_worker_killed_during_an_execution_does_not_stop_the_study(local_study, tmp_path, project_root):
    import psutil

    out = tmp_path / "results"
    command = [sys.executable, "-m", "lionpoc.cli", "study", "--smoke", "--no-render", "--optimizers", "lion",
               "--cluster", "local:2", "--results-dir", str(out)]
    study = subprocess.Popen(command, cwd=project_root, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    killed = None
    deadline = time.monotonic() + 600
    while killed is None and study.poll() is None and time.monotonic() < deadline:
        for process in psutil.Process(study.pid).children(recursive=True):
            try:
                # An execution has started (its kernel exists; a state, not a time: on a fast machine a smoke
                # execution can end within the 3 s this waited): kill the worker that runs it.
                if "ipykernel" in " ".join(process.cmdline()):
                    killed = process.parent()
                    killed.send_signal(signal.SIGKILL)
                    break
            except psutil.Error:
                continue
        time.sleep(0.5)
    stdout, stderr = study.communicate(timeout=900)
    assert killed is not None, "no kernel was seen to kill its worker"
    assert study.returncode == 0, stderr[-3000:]
    assert not psutil.pid_exists(killed.pid) or killed.status() == psutil.STATUS_ZOMBIE
    expected = outcome(local_study)
    lion_0 = expected[(expected["optimizer"] == "lion") & (expected["seed"] == 0)].reset_index(drop=True)
    pd.testing.assert_frame_equal(outcome(out), lion_0)  # the task ran again elsewhere: the same numbers


@pytest.mark.slow
def test_the_sharded_feature_pass_matches_the_one_machine_pass(synthetic_dir, tmp_path):
    from distributed import Client, LocalCluster

    from lionpoc import data
    from lionpoc.study import cluster

    dogs = tmp_path / "dogs"
    shutil.copytree(synthetic_dir, dogs)
    table, _ = data.list_images(dogs)
    names = table["file"].tolist()
    (dogs / names[5]).write_bytes(b"not an image")  # skipped alike on both paths
    alone, alone_block = features.extract(names, dogs, 71, "none", log=lambda *_: None)
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as local, Client(local) as client:
        sharded, sharded_block = cluster.DaskExecutor(client).extract(names, dogs, 71, "none", log=lambda *_: None)
    assert sharded.files == alone.files and len(sharded.files) == len(names) - 1
    assert [s["file"] for s in sharded.skipped] == [names[5]]
    np.testing.assert_allclose(sharded.values, alone.values, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(sharded_block.astype(np.float32), alone_block.astype(np.float32), rtol=1e-3, atol=1e-3)


def executed_notebook(seeds):
    """A notebook as the template leaves it: injected parameters, then a last cell with each seed's output."""
    import nbformat

    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_code_cell(f"seeds = {list(seeds)}", metadata={"tags": ["injected-parameters"]}),
                  nbformat.v4.new_code_cell("for seed in cfg.seeds: ...")]
    book.cells[-1].outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"graine {s}\n") for s in seeds]
    return nbformat.writes(book).encode()


def test_an_execution_of_several_seeds_fills_each_seed_folder_and_counts_once_in_the_view(tmp_path):
    """What the client writes for a grouped execution (seeds 0 and 1 in one kernel, seed 2 in another): each seed's
    folder with its own files and the notebook that ran it; the per-optimizer view shows each seed once."""
    from lionpoc.study import cluster, execute
    from lionpoc.study.config import RunConfig

    out = tmp_path / "results"
    cfg = RunConfig.from_params({"optimizer": {"name": "lion", "class": "lionpoc>Lion", "decay": "decoupled"},
                                 "grid": {"learning_rate": [1e-4], "weight_decay": [1.0]}, "seeds": [0, 1, 2],
                                 "results_dir": str(out)}, source="a test")

    def result(seeds, tmp):
        got = {"lion/training.ipynb": executed_notebook(seeds), "logs/lion.log": b"kernel log\n"}
        for s in seeds:
            got[f"lion/seed-{s}/metrics.json"] = json.dumps({"seed": s, "params": {"results_dir": tmp}}).encode()
            got[f"lion/seed-{s}/history.csv"] = f"epoch,seed\n1,{s}\n".encode()
        return {"files": got, "tmp": tmp}

    for seeds in ([0, 1], [2]):
        done = result(seeds, f"/worker/tmp-{seeds[0]}")
        for seed in seeds:
            cluster.write_run(cfg, seed, seeds, done, out)
    for seed in (0, 1, 2):
        run = out / "lion" / f"seed-{seed}"
        assert (run / "history.csv").read_text() == f"epoch,seed\n1,{seed}\n"
        assert json.loads((run / "metrics.json").read_text())["params"]["results_dir"] == str(out)
        assert (out / "logs" / f"lion-seed-{seed}.log").read_text() == "kernel log\n"
    assert (out / "lion" / "seed-0" / "training.ipynb").read_bytes() == (out / "lion" / "seed-1" / "training.ipynb").read_bytes()
    view = json.loads(execute.combine(cfg, [0, 1, 2]).read_text())
    assert ["".join(o["text"]) for o in view["cells"][-1]["outputs"]] == ["graine 0\n", "graine 1\n", "graine 2\n"]
    intro = "".join(view["cells"][0]["source"])
    assert "exécutées en 2 carnets" in intro
    assert "[graines 0 et 1](seed-0/training.ipynb), [graine 2](seed-2/training.ipynb)" in intro
    assert (out / "lion" / "training.html").is_file()


def test_a_kernel_started_by_a_worker_does_not_inherit_the_nannys_settings(monkeypatch):
    """A Dask nanny sets MALLOC_TRIM_THRESHOLD_ and OMP_NUM_THREADS=1 for its worker; a kernel started from
    that worker runs as a process started by hand would, its threads set by LIONPOC_THREADS."""
    import dask

    from lionpoc.study import cluster, execute

    worker_env = {"PATH": "/usr/bin", "MALLOC_TRIM_THRESHOLD_": "65536", "OMP_NUM_THREADS": "1"}
    with dask.config.set({"distributed.nanny.pre-spawn-environ": {"MALLOC_TRIM_THRESHOLD_": 65536,
                                                                 "OMP_NUM_THREADS": 1}}):
        env = execute.kernel_environment(worker_env, {"LIONPOC_THREADS": 2, **cluster.nanny_environment()})
    assert "MALLOC_TRIM_THRESHOLD_" not in env and "OMP_NUM_THREADS" not in env
    assert env["PATH"] == "/usr/bin" and env["LIONPOC_THREADS"] == "2" and env["TF_CPP_MIN_LOG_LEVEL"]
