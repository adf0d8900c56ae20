"""Any image folder as a data set: the registry, both layouts, the description file, the checks a user needs,
the data record, and the per-class tables; on synthetic folder data sets made here (``folder_sets``)."""
import shutil
import unicodedata

import numpy as np
import pandas as pd
import pytest

from folder_sets import make
from lionpoc import data
from lionpoc.data import datasets, records
from lionpoc.errors import LionpocError

FRACTIONS = (0.8, 0.1, 0.1)
TREES = ["Érable champêtre", "chêne vert", "Frêne_commun"]


def split(listing, method="random", seed=0):
    return data.make_split(listing.table, method, listing.data_dir, FRACTIONS, seed, list(listing.dataset.folders))


def test_three_classes_with_accents_and_spaces(tmp_path):
    root = make(tmp_path / "arbres", TREES, per_class=12)
    # A folder name as macOS writes it (decomposed accents) is the same class name, shown composed.
    (root / "Érable champêtre").rename(root / unicodedata.normalize("NFD", "Érable champêtre"))
    listing = data.read(root)
    dataset = listing.dataset
    assert dataset.key == "folder" and dataset.kind == "folder" and dataset.name == "arbres"
    # Alphabetical without regard to accents or case; underscores shown as spaces.
    assert dataset.display == ("chêne vert", "Érable champêtre", "Frêne commun")
    assert dataset.names[1] == "Érable champêtre" and dataset.words == ("classe", "classes")
    assert dataset.imagenet_index is None and dataset.reference_results is None and dataset.imagenet_overlap is None
    assert listing.notes == [] and len(listing.table) == 36 and listing.layout == "classes"
    table = split(listing)
    counts = data.split_counts(table)
    assert counts["total"].tolist() == [12, 12, 12] and (counts[["train", "val", "test"]] >= 1).all().all()
    assert table["split"].tolist() == split(listing)["split"].tolist()  # same seed, same split
    assert datasets.from_record(dataset.record()) == dataset


def test_the_description_file_names_the_set_and_its_classes(tmp_path):
    root = make(tmp_path / "arbres", TREES, per_class=12)
    (root / "dataset.yaml").write_text(
        "name: Feuilles de nos arbres\nclasses:\n  frêne commun: Frêne élevé\n  Chêne Vert: Chêne vert\n"
        "description: >\n  Des feuilles\n  sur fond clair.\nreference: M. Dupont, 2024\n", encoding="utf-8")
    dataset = data.read(root).dataset
    assert dataset.name == "Feuilles de nos arbres" and dataset.description == "Des feuilles sur fond clair."
    assert dataset.display == ("Chêne vert", "Érable champêtre", "Frêne élevé") and dataset.reference == "M. Dupont, 2024"
    assert dataset.folders == ("chêne vert", "Érable champêtre", "Frêne_commun")  # the run files' names stay
    for text, message in [("classes:\n  hêtre: Hêtre\n", "names a class 'hêtre' that has no folder"),
                          ("title: x\n", "unknown key\\(s\\) title; the keys are: name, classes, description"),
                          ("classes:\n  chêne vert: A\n  Frêne_commun: A\n", "shows two classes under one name \\(A\\)"),
                          ("name: [\n", "is not valid YAML \\(line 2\\)")]:
        (root / "dataset.yaml").write_text(text, encoding="utf-8")
        with pytest.raises(LionpocError, match=message):
            data.read(root)


def test_forty_classes_split_with_every_class_in_every_part(tmp_path):
    names = [f"espèce {i:02d}" for i in range(40)]
    root = make(tmp_path / "quarante", {n: 10 + (i % 4) for i, n in enumerate(names)}, size=24)
    listing = data.read(root)
    assert listing.dataset.n_classes == 40 and listing.dataset.folders == tuple(names)
    assert data.min_images_per_class(FRACTIONS, 40) == 10
    table = split(listing)
    counts = data.split_counts(table)
    assert len(counts) == 40 and (counts[["val", "test"]] >= 1).all().all()
    record = records.record(listing, table, "random")
    assert record["n_classes"] == 40 and len(record["classes"]) == 40 and record["test"] == counts["test"].sum()
    assert record["classes"][3] == {"folder": "espèce 03", "name": "espèce 03", "display": "espèce 03",
                                    **counts.loc["espèce 03", ["train", "val", "test", "total"]].astype(int).to_dict(),
                                    "unreadable": 0}
    assert record["imbalance"]["ratio"] == pytest.approx(13 / 10) and not record["imbalance"]["imbalanced"]


def test_train_val_test_folders_are_used_as_given(tmp_path):
    root = make(tmp_path / "given", ["a", "b", "c"], per_class=20, parts={"train": .7, "validation": .15, "test": .15})
    listing = data.read(root)
    assert listing.layout == "splits" and listing.parts == {"train": "train", "val": "validation", "test": "test"}
    table = split(listing)
    assert (table["split"] == table["file"].str.split("/").str[0].replace({"validation": "val"})).all()
    assert data.split_counts(table)[["train", "val", "test"]].values.tolist() == [[14, 3, 3]] * 3
    assert records.record(listing, table, "random")["split"] == "given"
    with pytest.raises(LionpocError, match="--split official is the split of the Stanford Dogs lists"):
        split(listing, "official")
    # Without a validation folder, validation is drawn (stratified) from train.
    shutil.rmtree(root / "validation")
    listing = data.read(root)
    table = split(listing)
    counts = data.split_counts(table)
    assert (counts["test"] == 3).all() and (counts["val"] >= 1).all() and counts["train"].sum() + counts["val"].sum() == 42
    assert records.record(listing, table, "random")["split"] == "given, validation drawn from train"
    # Every class in every part; train/ without test/ is not a split.
    shutil.rmtree(root / "test" / "c")
    with pytest.raises(LionpocError, match="test lacks the class folder\\(s\\) c that other parts of the split have"):
        data.read(root)
    shutil.rmtree(root / "test")
    with pytest.raises(LionpocError, match="holds train/ but no test/ folder"):
        data.read(root)


def test_a_class_with_three_images_is_refused_in_one_sentence(tmp_path):
    root = make(tmp_path / "few", {"chats": 12, "chiens": 12, "lapins nains": 3})
    listing = data.read(root)
    with pytest.raises(LionpocError) as refused:
        split(listing)
    message = str(refused.value)
    assert message == ("too few readable images to split for: lapins nains (3); each class needs at least 8 for the "
                       "stratified 80/10/10 split to give it images in train, validation and test: add images to it "
                       "or leave its folder out.")
    assert message.count(".") == 1  # one sentence


def test_the_same_image_in_two_classes_is_left_out_and_recorded(tmp_path):
    root = make(tmp_path / "dup", ["a", "b", "c"], per_class=12)
    shutil.copy(root / "a" / "img_0001.jpg", root / "b" / "copie.jpg")
    shutil.copy(root / "c" / "img_0002.jpg", root / "c" / "copie.jpg")
    listing = data.read(root)
    assert len(listing.table) == 38 - 2 and not listing.table["file"].isin(["a/img_0001.jpg", "b/copie.jpg"]).any()
    assert listing.left_out == [["a/img_0001.jpg", "b/copie.jpg"]] and listing.repeated == [["c/copie.jpg",
                                                                                             "c/img_0002.jpg"]]
    assert listing.notes[0].startswith("left out 2 file(s): 1 image(s) have the same bytes in two or more classes "
                                       "(e.g. a/img_0001.jpg = b/copie.jpg)")
    record = records.record(listing, split(listing), "random")
    assert record["same_bytes_across_classes"] == {"files_left_out": 2, "groups": [["a/img_0001.jpg", "b/copie.jpg"]]}
    assert record["same_bytes_within_a_class"]["groups"] == 1
    assert [c["total"] for c in record["classes"]] == [11, 12, 13]


@pytest.mark.parametrize("folders, message", [
    (["Golden retriever", "golden_retriever"], "the class folders 'Golden retriever' and 'golden_retriever' in .* "
                                               "differ only in case or spacing"),
    (["n02085936-maltese dog", "chats"], "differs from the Stanford Dogs breed folder 'n02085936-Maltese_dog' only "
                                         "in case or spacing"),
    (["chats"], "holds 1 class folder \\(chats\\): a classifier needs at least 2 classes"),
])
def test_class_folders_that_cannot_be_classes(tmp_path, folders, message):
    root = make(tmp_path / "set", folders, per_class=2)
    with pytest.raises(LionpocError, match=message):
        data.read(root)


def test_what_lies_beside_the_images_is_ignored_and_counted(tmp_path):
    root = make(tmp_path / "set", ["a", "b"], per_class=12)
    (root / "a" / "old").mkdir()
    shutil.copy(root / "a" / "img_0000.jpg", root / "a" / "old" / "x.jpg")
    (root / "b" / "notes.txt").write_text("x")
    shutil.copy(root / "b" / "img_0000.jpg", root / "loose.jpg")
    listing = data.read(root)
    assert listing.ignored == {"loose images": 1, "nested folders": 1, "not images": 1} and len(listing.table) == 24
    assert any("nested inside class folders (a/old)" in n for n in listing.notes)
    described_only = tmp_path / "empty"
    described_only.mkdir()
    (described_only / "dataset.yaml").write_text("name: x\n")
    with pytest.raises(LionpocError, match="holds no class folder: put each class's images in a subfolder"):
        data.read(described_only)
    only_images = make(tmp_path / "flat", ["a"], per_class=2) / "a"
    with pytest.raises(LionpocError, match="holds 2 image\\(s\\) but no class folders: put each class's images in a "
                                           "subfolder named after the class"):
        data.read(only_images)


def test_unreadable_images_and_imbalance_are_recorded(tmp_path):
    root = make(tmp_path / "set", {"a": 30, "b": 12, "c": 12})
    (root / "b" / "broken.jpg").write_bytes(b"not an image")
    listing = data.read(root)
    table = split(listing.__class__(**{**listing.__dict__, "table": listing.table[
        listing.table["file"] != "b/broken.jpg"].reset_index(drop=True)}))
    record = records.record(listing, table, "random", skipped=[{"file": "b/broken.jpg", "reason": "OSError"}])
    assert record["unreadable"] == 1 and [c["unreadable"] for c in record["classes"]] == [0, 1, 0]
    assert record["imbalance"]["largest"]["folder"] == "a" and record["imbalance"]["ratio"] == pytest.approx(2.5)
    assert record["imbalance"]["imbalanced"]


def test_the_registry_entry_of_the_fifteen_breeds():
    entry = datasets.get("stanford_dogs_15")
    assert entry.n_classes == 15 and entry.display[0] == "Bichon maltais" and entry.words == ("race", "races")
    assert entry.reference_results == "study_2023" and entry.bib_key == "khosla2011dogs" and entry.download
    assert entry.imagenet_overlap is True and entry.lookalike("n02111889-Samoyed", "n02111500-Great_Pyrenees")
    assert datasets.for_folders(reversed(entry.folders), "x") == entry  # the same folders, in any order


def test_evaluation_and_per_class_tables_with_any_classes(tmp_path, monkeypatch):
    from lionpoc.model.evaluate import evaluate
    from lionpoc.study import classes

    root = make(tmp_path / "arbres", TREES, per_class=12)
    dataset = data.read(root).dataset
    y_true = np.array([0, 0, 0, 0, 1, 1, 2, 2])
    probabilities = np.eye(3)[[0, 0, 1, 1, 1, 1, 2, 0]]
    scored = evaluate(y_true, probabilities, [f"f{i}" for i in range(8)], dataset.names)
    assert list(scored.confusion.index) == list(dataset.names) and scored.predictions["true"][4] == "Érable champêtre"
    for seed in (0, 1):
        run = tmp_path / "results" / "adam" / f"seed-{seed}"
        run.mkdir(parents=True)
        scored.confusion.to_csv(run / "confusion.csv")
        scored.report.to_csv(run / "classification_report.csv")
    found = pd.DataFrame({"optimizer": ["adam", "adam"], "seed": [0, 1],
                          "path": [tmp_path / "results" / "adam" / f"seed-{s}" for s in (0, 1)]})
    monkeypatch.setattr(classes, "_runs", lambda results_dir, optimizers: found)
    confused = classes.confusions(tmp_path / "results", dataset, ["adam"])
    # chêne vert -> Érable champêtre twice per seed (2 x 2 of 8), Frêne -> chêne once per seed.
    assert confused[["true", "predicted", "count", "share"]].values.tolist() == [
        ["chêne vert", "Érable champêtre", 4, 0.5], ["Frêne_commun", "chêne vert", 2, 0.5]]
    assert confused["predicted_display"].tolist() == ["Érable champêtre", "chêne vert"]
    scores = classes.class_scores(tmp_path / "results", dataset, ["adam"])
    # F1: Érable 2/3 (precision 1/2, recall 1), Frêne 2/3 (1, 1/2), chêne 4/7 (2/3, 1/2); best first, ties in
    # class order.
    assert scores["display"].tolist() == ["Érable champêtre", "Frêne commun", "chêne vert"]
    assert scores["f1"].tolist() == pytest.approx([2 / 3, 2 / 3, 4 / 7]) and scores["rank"].tolist() == [1, 2, 3]


# ------------------------------------------------------------------ whole studies on folder data sets
@pytest.mark.slow
def test_a_forty_class_study_records_its_classes(tmp_path, results_maker):
    from lionpoc import files

    names = [f"classe {i:02d}" for i in range(40)]
    root = make(tmp_path / "quarante", {n: 10 + (i % 3) for i, n in enumerate(names)}, size=32)
    out = results_maker(tmp_path / "results", root, tmp_path / "cache", seeds=(0,), optimizers=("adam", "lion"),
                        epochs=10)
    study = files.read_json(out / "study.json")
    assert study["data"]["n_classes"] == 40 and study["data"]["key"] == "folder"
    assert study["data_kind"] == "folder" and [c["folder"] for c in study["data"]["classes"]] == names
    assert sum(c["test"] for c in study["data"]["classes"]) == study["data"]["test"]
    scores = pd.read_csv(out / "class_scores.csv")
    assert len(scores) == 80 and (scores.groupby("optimizer")["rank"].apply(sorted) == [list(range(1, 41))] * 2).all()
    confused = pd.read_csv(out / "confusions.csv")
    assert len(confused) <= 40 and (confused["count"] > 0).all() and not (confused["true"] == confused["predicted"]).any()
    assert not (out / "thumbnails.png").exists()  # 40 rows of thumbnails would not fit a page
    report = pd.read_csv(out / "adam" / "seed-0" / "classification_report.csv", index_col=0)
    assert names[39] in report.index and len(pd.read_csv(out / "adam" / "seed-0" / "confusion.csv")) == 40
    baseline = files.read_json(out / "baseline.json")
    assert baseline["available"] is False and baseline["imagenet_classes"] is False


@pytest.mark.slow
def test_lionpoc_study_on_a_folder_of_classes_with_mobilenet(tmp_path, project_root):
    import json
    import subprocess
    import sys

    root = make(tmp_path / "arbres", TREES, per_class=14, size=40)
    shutil.copy(root / "chêne vert" / "img_0003.jpg", root / "Frêne_commun" / "copie.jpg")
    (root / "Frêne_commun" / "abîmée.jpg").write_bytes(b"\xff\xd8 truncated")
    (root / "dataset.yaml").write_text("name: Arbres\nclasses:\n  frêne commun: Frêne élevé\n", encoding="utf-8")
    out = tmp_path / "results"
    done = subprocess.run([sys.executable, "-m", "lionpoc.cli", "study", "--smoke", "--data-dir", str(root),
                           "--backbone", "mobilenet_v2", "--optimizers", "adam,lion", "--seeds", "1", "--results-dir",
                           str(out), "--no-render"], cwd=project_root, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "data: Arbres, 3 classes, 42 images" in done.stdout  # 44 files, 2 left out
    assert "left out 2 file(s): 1 image(s) have the same bytes in two or more classes" in done.stdout
    record = json.loads((out / "study.json").read_text())["data"]
    assert record["name"] == "Arbres" and record["display"] == ["chêne vert", "Érable champêtre", "Frêne élevé"]
    assert record["unreadable"] == 1 and [c["unreadable"] for c in record["classes"]] == [0, 0, 1]
    assert [c["total"] for c in record["classes"]] == [13, 14, 14]  # readable images
    metrics = json.loads((out / "lion" / "seed-0" / "metrics.json").read_text())
    assert metrics["backbone"] == "mobilenet_v2" and metrics["n_classes"] == 3 and metrics["data_kind"] == "folder"
    predictions = pd.read_csv(out / "lion" / "seed-0" / "predictions.csv")
    assert set(predictions["true"]) <= {"chêne vert", "Érable champêtre", "Frêne_commun"}
    assert (out / "thumbnails.png").is_file()


# ------------------------------------------------------------------ the report of another data set
@pytest.mark.parametrize("regime", ["folder_classes", "forty_classes"])
def test_the_report_of_another_data_set_speaks_of_its_classes(tmp_path, regime):
    import re

    import report_fixtures
    from report_text import document

    text = document(report_fixtures.write(tmp_path / regime, report_fixtures.REGIMES[regime]))
    text = text.replace("\u202f", " ").replace("\u00a0", " ")  # French no-break spaces as plain ones
    flat = re.sub(r"[ \n]+", " ", text)  # the prose as read, whatever the document's line breaks
    # The 2023 study appears only as the year Lion was published; no breed, no Stanford Dogs, no ImageNet overlap.
    assert "Stanford" not in text and "sec-2023" not in text and "étude de 2023" not in text
    assert not re.search(r"\braces?\b", text) and "chien" not in text and "quinze" not in text
    assert "viennent d'ImageNet" not in flat and "ne sont pas toutes des classes d'ImageNet" in flat
    if regime == "folder_classes":
        quoted = "« {} »".format
        assert f"MobileNetV2 et le jeu d'images {quoted('Feuilles de nos arbres')} (trois classes)" in text
        assert "Une feuille par photo, sur fond clair." in text and quoted("Frêne commun") in text
        assert f"Les classes sont déséquilibrées : la plus grande, {quoted('chêne vert')}, compte 240 images" in flat
        assert "| Classe | Entraînement |" in text and "{#fig-confusion}" in text
    else:
        assert "Avec 40 classes, des matrices de confusion complètes ne tiendraient pas sur une page" in text
        assert "{#fig-confusion}" not in text and "| Par classe | Entraînement |" in text
        table = text[text.index("| Classe | Images |"):text.index("{#tbl-classes}")]
        assert table.count("\n| classe") == 10  # the five best and the five worst
