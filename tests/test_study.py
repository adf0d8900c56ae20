"""End to end, with the real commands: `lionpoc study --smoke` (three optimizers through papermill),
its resumption, and papermill by hand on the template with the real photos."""
import json
import os
import subprocess
import sys

import nbformat
import pandas as pd
import pytest

from lionpoc.data import breeds

pytestmark = pytest.mark.slow
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}


def lionpoc(*args, cwd):
    return subprocess.run([sys.executable, "-m", "lionpoc.cli", *args], cwd=cwd, env=ENV,
                          capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def smoke(smoke_study):
    return smoke_study  # the session's smoke study (conftest), shared with the fault tests


def test_smoke_study_writes_every_file_for_every_optimizer(smoke):
    out, done = smoke
    for name in ("adam", "adamw", "lion"):
        run = out / name / "seed-0"
        for file in ("metrics.json", "history.csv", "tuning.csv", "predictions.csv", "confusion.csv",
                     "classification_report.csv"):  # figures: drawn in the notebook, once per optimizer
            assert (run / file).is_file(), f"{run / file} missing"
        for file in ("training.ipynb", "training.html"):  # one executed notebook per optimizer
            assert (out / name / file).is_file(), f"{out / name / file} missing"
        metrics = json.loads((run / "metrics.json").read_text())
        assert metrics["data_kind"] == "synthetic" and metrics["weights"] == "none" and metrics["smoke"] is True
        assert metrics["test_accuracy"] > 0.3  # chance is 1/15 = 0.067
        assert metrics["versions"]["keras"] and metrics["machine"]["cores"] >= 1
        history = pd.read_csv(run / "history.csv")
        assert len(history) == metrics["epochs_run"] and (history["seconds"] > 0).all()
        predictions = pd.read_csv(run / "predictions.csv")
        assert len(predictions) == metrics["n_test"]
        assert predictions["correct"].mean() == pytest.approx(metrics["test_accuracy"])
        assert pd.read_csv(run / "confusion.csv", index_col=0).to_numpy().sum() == metrics["n_test"]
        tuning = pd.read_csv(run / "tuning.csv")
        # the shipped 3 x 3 grid is round 0; bracketing may add rounds beyond an edge, never repeat a configuration
        assert (tuning["round"] == 0).sum() == 9 and tuning["chosen"].sum() == 1
        assert len(tuning) == metrics["configurations_tried"] == len(tuning.drop_duplicates(tuning.columns[:2].tolist()))
        notebook = nbformat.read(out / name / "training.ipynb", as_version=4)
        assert any("injected-parameters" in c.metadata.get("tags", []) for c in notebook.cells)
        images = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
        assert len(images) == 2  # the curves and the confusion matrix, each shown once
        streams = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "stream"]
        assert not [o for o in streams if o.name == "stderr"], "kernel noise reached the notebook"
        noise = ("absl", "cuInit", "oneDNN", "IPKernelApp", "cuda")
        assert not any(word in o.text for o in streams for word in noise)
    summary = pd.read_csv(out / "summary.csv")
    assert summary["optimizer"].tolist() == ["adam", "adamw", "lion"]
    split = pd.read_csv(out / "split.csv")
    assert set(split["split"]) == {"train", "val", "test"} and split["breed"].nunique() == 15
    assert "lion seed 0: chosen learning_rate" in done.stdout
    noise = ("absl", "cuInit", "oneDNN", "IPKernelApp", "cuda", "E0000", "W0000", "I0000")
    assert not any(word in done.stdout + done.stderr for word in noise), done.stderr
    study = json.loads((out / "study.json").read_text())
    assert [e["optimizer"] for e in study["executions"]] == ["adam", "adamw", "lion"]
    assert study["features_seconds"] > 0 and study["trainings_seconds"] > 0 and study["images"] == 900
    assert study["machine"]["cores"] >= 1 and study["total_seconds"] >= study["trainings_seconds"]
    assert (study["backbone"], study["backbone_label"], study["feature_dim"]) == ("xception", "Xception", 2048)
    assert study["pretrained"] is False and study["features_from_cache"] is False
    assert study["features_extraction_seconds"] > 0 and study["cached_features_seconds"] is None
    assert (out / "logs" / "lion.log").is_file()


def test_a_second_study_resumes_and_redoes_nothing(smoke, request):
    out, _ = smoke
    before = (out / "lion" / "seed-0" / "metrics.json").read_text()
    again = lionpoc("study", "--smoke", "--no-render", "--results-dir", str(out), cwd=request.config.rootpath)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("already done with the same inputs, kept") == 3
    study = json.loads((out / "study.json").read_text())
    assert study["executions"] == []
    # The features came from the cache: the pass belongs to the first study, recorded apart, not as this one's.
    assert study["features_from_cache"] is True and study["features_extraction_seconds"] == 0
    assert study["cached_features_seconds"] > study["features_seconds"]
    assert "read from the cache" in again.stdout
    assert (out / "lion" / "seed-0" / "metrics.json").read_text() == before


def test_papermill_by_hand_on_the_real_photos(real_dir, tmp_path, request):
    root = request.config.rootpath
    out = tmp_path / "results"
    done = subprocess.run(
        [sys.executable, "-m", "papermill", "analysis/train.ipynb", str(tmp_path / "out.ipynb"),
         "-f", "analysis/params/lion.yaml", "-p", "smoke", "True", "-p", "data_dir", str(real_dir),
         "-p", "results_dir", str(out), "-p", "epochs", "8"],
        cwd=root, env=ENV, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((out / "lion" / "seed-0" / "metrics.json").read_text())
    assert metrics["data_kind"] == "stanford_dogs" and metrics["n_test"] == 326 and metrics["image_size"] == 71
    assert metrics["run_key"] and metrics["seed"] == 0
    assert metrics["epochs_run"] <= 8
    split = pd.read_csv(out / "split.csv")
    counts = pd.crosstab(split["breed"], split["split"])
    assert counts.sum(axis=1).to_dict()["n02085936-Maltese_dog"] == 252
    assert counts["test"].sum() == 326 and counts.loc[list(breeds.FOLDERS), "test"].min() >= 20


def test_smoke_study_with_fine_tuning_fills_the_reports_section(tmp_path, request):
    """`lionpoc study --smoke --fine-tune`: block 14 trained for every optimizer, tables for the report."""
    from lionpoc import report
    from lionpoc.report import tables

    out = tmp_path / "results"
    done = lionpoc("study", "--smoke", "--fine-tune", "--optimizers", "adamw,lion", "--no-render", "--seeds", "2",
                   "--fine-tune-seeds", "1", "--results-dir", str(out), cwd=request.config.rootpath)
    assert done.returncode == 0, done.stderr[-3000:]
    # One (optimizer, seed) pair each: seed 1 trains its head alone.
    assert "fine-tuning: budget 3 learning rates x at most 2 epochs for each of 2 (optimizer, seed) pair(s)" \
        in done.stdout
    for name in ("adamw", "lion"):
        metrics = json.loads((out / name / "seed-0" / "metrics.json").read_text())
        assert metrics["ft_trainable_parameters"] == 4_772_367 and metrics["ft_epochs_run"] <= 2
        assert (out / name / "seed-0" / "fine_tune_history.csv").is_file()
        assert len(pd.read_csv(out / name / "seed-0" / "fine_tune_predictions.csv")) == metrics["n_test"]
        alone = json.loads((out / name / "seed-1" / "metrics.json").read_text())
        assert "ft_test_accuracy" not in alone and not (out / name / "seed-1" / "fine_tune_history.csv").exists()
    summary = pd.read_csv(out / "fine_tune_summary.csv").set_index("optimizer")
    assert summary.loc["adamw", "state_bytes"] == 2 * summary.loc["lion", "state_bytes"]
    assert summary["n_seeds"].tolist() == [1, 1]
    assert json.loads((out / "study.json").read_text())["fine_tune_seeds"] == 1
    d = report.load(out)
    assert len(tables.fine_tune(d).frame) == 2
    from report_text import document

    text = document(d)
    abstract = " ".join(text.split("# Introduction")[0].split())  # a score sentence, or the warning of a collapse
    assert "Côté mémoire (@tbl-ajustement-couts), l'état de Lion occupe" in " ".join(text.split())
    assert "L'ajustement fin, qui dégèle" in abstract or "L'ajustement fin a ramené tous les optimiseurs" in abstract
    assert "il ne porte que sur la première des deux graines" in " ".join(text.split())
    assert "--fine-tune-seeds 1" in text

    assert "Ces résultats ne comportent pas d'ajustement fin" in document(report.load(tmp_path / "none"))
