"""The regime users see: MobileNetV2 with genuinely ImageNet-pretrained weights on the real photos.

Through the real commands: `lionpoc study --backbone mobilenet_v2 --weights FILE` (3 seeds, head only), then
`lionpoc render`, read as a reader would; and a short fine-tuning of block 16 and the last 1x1 convolution.
The MobileNetV2 pass over the 3,254 photos at 224 px is cached in the project's data/processed by the first
study and read back by the second.
"""
import json
import os
import shutil
import subprocess
import sys

import pandas as pd
import pytest

pytestmark = pytest.mark.slow
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
OPTIMIZERS = ("adam", "adamw", "lion")
HEAD_WEIGHTS = 1280 * 15 + 15                                    # a 15-way head on 1,280 pooled features
BLOCK_16_AND_CONV_1 = 160 * 960 + 3 * 3 * 960 + 960 * 320 + 320 * 1280  # batch normalisation frozen


def lionpoc(*args, cwd):
    return subprocess.run([sys.executable, "-m", "lionpoc.cli", *args], cwd=cwd, env=ENV, capture_output=True,
                          text=True, timeout=1200)


def study(root, out, data_dir, weights, *extra):
    done = lionpoc("study", "--backbone", "mobilenet_v2", "--weights", str(weights), "--data-dir", str(data_dir),
                   "--results-dir", str(out), "--no-render", *extra, cwd=root)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def metrics(out, optimizer, seed):
    return json.loads((out / optimizer / f"seed-{seed}" / "metrics.json").read_text())


@pytest.fixture(scope="module")
def pretrained(real_dir, mobilenet_weights, tmp_path_factory, request):
    out = tmp_path_factory.mktemp("pretrained") / "results"
    study(request.config.rootpath, out, real_dir, mobilenet_weights, "--seeds", "3")
    return out


def test_every_optimizer_reaches_85_percent_on_pretrained_features(pretrained):
    for optimizer in OPTIMIZERS:
        for seed in range(3):
            m = metrics(pretrained, optimizer, seed)
            assert (m["backbone"], m["backbone_label"], m["feature_dim"], m["image_size"]) == \
                ("mobilenet_v2", "MobileNetV2", 1280, 224)
            assert m["pretrained"] is True and m["data_kind"] == "stanford_dogs" and m["n_test"] == 326
            assert m["test_accuracy"] >= 0.85, (optimizer, seed, m["test_accuracy"])
    summary = pd.read_csv(pretrained / "summary.csv")
    assert summary["optimizer"].tolist() == list(OPTIMIZERS) and (summary["n_seeds"] == 3).all()
    record = json.loads((pretrained / "study.json").read_text())
    assert (record["backbone"], record["backbone_label"], record["feature_dim"], record["pretrained"]) == \
        ("mobilenet_v2", "MobileNetV2", 1280, True)
    memory = pd.read_csv(pretrained / "memory.csv")
    assert set(memory["model"]) == {"head", "mobilenet_v2"}
    assert set(memory.loc[memory["model"] == "head", "parameters"]) == {HEAD_WEIGHTS}
    baseline = json.loads((pretrained / "baseline.json").read_text())
    assert baseline["available"] is False and "MobileNetV2's classifier" in baseline["reason"]


@pytest.mark.skipif(shutil.which("quarto") is None, reason="the quarto command is not installed here")
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is needed to read the PDF")
def test_the_rendered_report_of_a_pretrained_study_has_no_random_weights_warning(pretrained, request):
    root = request.config.rootpath
    done = lionpoc("render", "--results-dir", str(pretrained), cwd=root)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    pdf = pretrained / "_output" / "report" / "index.pdf"  # a study's report goes under its own results
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout.replace("\u2019", "'")
    page1 = subprocess.run(["pdftotext", "-layout", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True,
                           text=True, check=True).stdout
    # No warning on page 1 ("--weights none" is still explained where the report says how to rerun it).
    assert "sans pré-entraînement" not in page1 and "poids aléatoires" not in page1
    # The report speaks of the backbone that ran: title and method name MobileNetV2, never Xception as the base.
    assert "MobileNetV2" in page1 and "Xception" not in page1
    assert "MobileNetV2 sur les images" in text and "Xception sur les images" not in text
    assert "caractéristiques de Xception" not in text and "1 280 caractéristiques" in text
    assert "Données synthétiques" not in text and "??" not in text
    # The accuracies the study measured are the ones printed (French format, one decimal).
    summary = pd.read_csv(pretrained / "summary.csv")
    for value in summary["test_accuracy_mean"]:
        assert f"{100 * value:.1f}".replace(".", ",") in text


def test_a_short_fine_tuning_of_mobilenet_v2_reuses_the_cached_pass(pretrained, real_dir, mobilenet_weights,
                                                                     tmp_path, request):
    """Lion alone, one seed, one epoch per learning rate: the chain, not the comparison (about a minute alone)."""
    out = tmp_path / "results"
    done = study(request.config.rootpath, out, real_dir, mobilenet_weights, "--optimizers", "lion", "--seeds", "1",
                 "--fine-tune", "--fine-tune-epochs", "1")
    assert "the input of block_16_expand onwards" in done.stdout
    record = json.loads((out / "study.json").read_text())
    # The pass ran in the first study: it is recorded apart, not as part of this one.
    assert record["features_from_cache"] is True and record["features_extraction_seconds"] == 0
    assert record["cached_features_seconds"] > record["features_seconds"]
    m = metrics(out, "lion", 0)
    assert m["ft_trainable_parameters"] == BLOCK_16_AND_CONV_1 + HEAD_WEIGHTS
    assert m["ft_epochs_run"] == 1 and m["ft_test_accuracy"] >= 0.85, m["ft_test_accuracy"]
    assert m["ft_state_bytes"] == 4 * m["ft_trainable_parameters"]  # Lion: one momentum per weight, float32
    # The head chosen on the same features and seed as in the 3-seed study: the same numbers.
    assert m["test_accuracy"] == metrics(pretrained, "lion", 0)["test_accuracy"]
