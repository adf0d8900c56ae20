"""The regime users see: MobileNetV2 with genuinely ImageNet-pretrained weights on the real photos.

Through the real commands, the README's command for this regime on a reduced budget that still crosses the whole
chain: `lionpoc study --backbone mobilenet_v2 --weights FILE --fine-tune --sensitivity` with 2 seeds, the first of
them fine-tuned (block 16 and the last 1x1 convolution, one epoch per learning rate), then `lionpoc render`, read as
a reader would. The MobileNetV2 pass over the 3,254 photos at 224 px fills both caches (pooled features, the input
of block 16) in the project's data/processed, once.
"""
import json
import os
import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest

pytestmark = pytest.mark.slow
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
OPTIMIZERS = ("adam", "adamw", "lion")
SEEDS = 2
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
    done = study(request.config.rootpath, out, real_dir, mobilenet_weights, "--seeds", str(SEEDS), "--fine-tune",
                 "--fine-tune-epochs", "1", "--fine-tune-seeds", "1", "--sensitivity",
                 "--jobs", "3")  # three notebooks at once: the fine-tuning estimate is not what this test reads
    assert "the input of block_16_expand onwards" in done.stdout
    return out


def test_every_optimizer_reaches_85_percent_on_pretrained_features(pretrained):
    for optimizer in OPTIMIZERS:
        for seed in range(SEEDS):
            m = metrics(pretrained, optimizer, seed)
            assert (m["backbone"], m["backbone_label"], m["feature_dim"], m["image_size"]) == \
                ("mobilenet_v2", "MobileNetV2", 1280, 224)
            assert m["pretrained"] is True and m["data_kind"] == "stanford_dogs" and m["n_test"] == 326
            assert m["test_accuracy"] >= 0.85, (optimizer, seed, m["test_accuracy"])
    summary = pd.read_csv(pretrained / "summary.csv")
    assert summary["optimizer"].tolist() == list(OPTIMIZERS) and (summary["n_seeds"] == SEEDS).all()
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
    flat = re.sub(r"\s+", " ", text)
    # The parts that ran are reported with their results, and the plan announces them.
    plan = re.sub(r"\s+", " ", subprocess.run(["pdftotext", "-layout", "-l", "2", str(pdf), "-"],
                                               capture_output=True, text=True, check=True).stdout)
    assert "Étude de sensibilité" in plan and "Ajustement fin" in plan
    assert "n'a pas été lancée" not in flat and "ne comportent pas d'ajustement fin" not in flat
    assert "il ne porte que sur la première des deux graines" in flat.replace("\u2019", "'")
    # read in the HTML: the PDF may hyphenate a word or break a page inside the phrase
    html_text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", (pretrained / "_output" / "report" / "index.html")
                                           .read_text(encoding="utf-8")))
    assert "Budget de réglage" in text and "Écart entre Lion et le meilleur des autres optimiseurs" in html_text
    assert re.search(r"Figure \d+\. – Exactitude sur le test selon la taille de lot", text)
    fine = pd.read_csv(pretrained / "fine_tune_summary.csv")
    for value in fine["after_mean"]:
        assert f"{100 * value:.1f}".replace(".", ",") in text
    html = (pretrained / "_output" / "report" / "index.html").read_text(encoding="utf-8")
    for anchor in ("fig-sensibilite", "tbl-planification", "tbl-ajustement"):
        assert f'id="{anchor}"' in html, anchor


def test_the_first_seed_is_fine_tuned_and_every_seed_gets_its_sensitivity(pretrained):
    record = json.loads((pretrained / "study.json").read_text())
    assert record["fine_tune_seeds"] == 1
    for optimizer in OPTIMIZERS:
        m = metrics(pretrained, optimizer, 0)
        assert m["ft_trainable_parameters"] == BLOCK_16_AND_CONV_1 + HEAD_WEIGHTS
        assert m["ft_epochs_run"] == 1 and m["ft_test_accuracy"] >= 0.85, (optimizer, m["ft_test_accuracy"])
        per_weight = 4 if optimizer == "lion" else 8   # float32 momentum; Adam and AdamW keep two moments
        assert m["ft_state_bytes"] == per_weight * m["ft_trainable_parameters"]
        assert "ft_test_accuracy" not in metrics(pretrained, optimizer, 1)  # seed 1 trains its head only
    summary = pd.read_csv(pretrained / "fine_tune_summary.csv")
    assert summary["optimizer"].tolist() == list(OPTIMIZERS) and (summary["n_seeds"] == 1).all()
    table = pd.read_csv(pretrained / "sensitivity.csv")
    assert len(table) == len(OPTIMIZERS) * SEEDS * 4 * 2  # optimizers x seeds x batch sizes x schedules
    assert set(table["batch_size"]) == {32, 64, 128, 256} and set(table["schedule"]) == {"constant", "cosine"}
    # Pretrained features leave little to lose: every variant of every chosen head stays well above chance.
    assert table["test_accuracy"].min() >= 0.80, table.sort_values("test_accuracy").head(3)
