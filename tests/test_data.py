"""Listing, checking and splitting the images: on synthetic data, and on the real photos when present."""
import shutil

import pandas as pd
import pytest

from lionpoc.data import breeds
from lionpoc import data
from lionpoc.errors import LionpocError

REAL_COUNTS = {"n02085936-Maltese_dog": 252, "n02086240-Shih-Tzu": 214, "n02088094-Afghan_hound": 239,
               "n02090721-Irish_wolfhound": 218, "n02092002-Scottish_deerhound": 232,
               "n02095889-Sealyham_terrier": 202, "n02096051-Airedale": 202, "n02097474-Tibetan_terrier": 206,
               "n02107683-Bernese_mountain_dog": 218, "n02108000-EntleBucher": 202, "n02110806-basenji": 209,
               "n02111129-Leonberg": 210, "n02111500-Great_Pyrenees": 213, "n02111889-Samoyed": 218,
               "n02112018-Pomeranian": 219}


def test_breeds_have_readable_names_and_increasing_imagenet_indices():
    assert len(breeds.FOLDERS) == 15 and breeds.NAMES[0] == "Maltese dog" and breeds.NAMES[10] == "Basenji"
    indices = [breeds.IMAGENET_INDEX[breeds.wnid(f)] for f in breeds.FOLDERS]
    # ImageNet numbers classes in WordNet-id order and its dog classes span 151..268.
    assert indices == sorted(indices) and len(set(indices)) == 15
    assert all(151 <= i <= 268 for i in indices)
    assert sorted(breeds.wnid(f) for f in breeds.FOLDERS) == [breeds.wnid(f) for f in breeds.FOLDERS]


def test_listing_is_sorted_and_labelled(synthetic_dir):
    table, notes = data.list_images(synthetic_dir)
    assert len(table) == 15 * 12 and notes == []
    assert table["file"].tolist() == sorted(table["file"])
    assert (table.groupby("label")["breed"].first() == list(breeds.FOLDERS)).all()
    assert data.data_kind(synthetic_dir) == "synthetic"


def test_split_is_stratified_and_deterministic(synthetic_dir):
    table, _ = data.list_images(synthetic_dir)
    first = data.split_random(table, (0.8, 0.1, 0.1), seed=0)
    again = data.split_random(table.sample(frac=1, random_state=3).sort_values("file"), (0.8, 0.1, 0.1), seed=0)
    assert first.tolist() == again.tolist()
    assert first.tolist() != data.split_random(table, (0.8, 0.1, 0.1), seed=1).tolist()
    counts = data.split_counts(table.assign(split=first))
    assert (counts["total"] == 12).all() and (counts[["train", "val", "test"]] >= 1).all().all()


def test_missing_breeds_are_named(tmp_path, synthetic_dir):
    copy = tmp_path / "dogs"
    shutil.copytree(synthetic_dir, copy)
    shutil.rmtree(copy / "n02110806-basenji")
    (copy / "n99999999-Wolf").mkdir()
    with pytest.raises(LionpocError, match="lacks 1 of the 15 breed folders \\(n02110806-basenji\\)"):
        data.list_images(copy)
    (copy / "n02110806-basenji").mkdir()
    shutil.copy(next((copy / "n02111129-Leonberg").iterdir()), copy / "n02110806-basenji" / "a.jpg")
    table, notes = data.list_images(copy)
    assert "n99999999-Wolf" in notes[0] and len(table) == 14 * 12 + 1
    with pytest.raises(LionpocError, match="too few readable images to split for: n02110806-basenji \\(1\\)"):
        data.split_random(table)


@pytest.mark.parametrize("make", ["absent", "empty", "file"])
def test_unusable_data_dirs_get_one_sentence(tmp_path, make):
    target = tmp_path / "dogs"
    if make == "empty":
        target.mkdir()
    elif make == "file":
        target.write_text("x")
    with pytest.raises(LionpocError, match="lionpoc download"):
        data.list_images(target)


def test_real_photos_counts_and_the_326_test_images(real_dir):
    table, notes = data.list_images(real_dir)
    assert notes == [] and len(table) == 3254
    assert table["breed"].value_counts().to_dict() == REAL_COUNTS
    split = data.make_split(table, "random", real_dir, (0.8, 0.1, 0.1), seed=0)
    counts = data.split_counts(split)
    assert counts["test"].sum() == 326 and counts["val"].sum() == 326 and counts["train"].sum() == 2602
    # Stratified: each breed's test share is within one image of 10 %.
    assert ((counts["test"] - counts["total"] * 0.1).abs() <= 1).all()


def test_real_photos_official_split(real_dir):
    table, _ = data.list_images(real_dir)
    split = data.make_split(table, "official", real_dir, (0.8, 0.1, 0.1), seed=0)
    counts = data.split_counts(split)
    assert counts["test"].sum() == 1754
    assert (counts["train"] + counts["val"] == 100).all()
    assert isinstance(counts, pd.DataFrame) and counts["val"].sum() > 0
