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
    assert data.read(synthetic_dir).dataset.key == "stanford_dogs_15"


def test_split_is_stratified_and_deterministic(synthetic_dir):
    table, _ = data.list_images(synthetic_dir)
    first = data.split_random(table, (0.8, 0.1, 0.1), seed=0)
    again = data.split_random(table.sample(frac=1, random_state=3).sort_values("file"), (0.8, 0.1, 0.1), seed=0)
    assert first.tolist() == again.tolist()
    assert first.tolist() != data.split_random(table, (0.8, 0.1, 0.1), seed=1).tolist()
    counts = data.split_counts(table.assign(split=first))
    assert (counts["total"] == 12).all() and (counts[["train", "val", "test"]] >= 1).all().all()


def test_a_subset_of_the_breeds_is_a_data_set_of_its_own(tmp_path, synthetic_dir):
    copy = tmp_path / "dogs"
    shutil.copytree(synthetic_dir, copy)
    shutil.rmtree(copy / "n02110806-basenji")
    listing = data.read(copy)
    assert listing.dataset.key == "folder" and listing.dataset.n_classes == 14
    # The breeds keep their names, look-alikes and ImageNet indices; the 2023 comparison was made on all 15.
    assert listing.dataset.display[0] == "Bichon maltais" and listing.dataset.words == ("race", "races")
    assert listing.dataset.imagenet_index[:2] == (153, 155) and listing.dataset.reference_results is None
    assert "14 of the 15 Stanford Dogs breed folders (1 absent: n02110806-basenji)" in listing.notes[0]
    (copy / "n99999999-Wolf").mkdir()
    shutil.copy(sorted((copy / "n02111129-Leonberg").iterdir())[0], copy / "n99999999-Wolf" / "a.jpg")
    # A Leonberg photo copied into the new class: one image, two classes, so both copies are left out.
    listing = data.read(copy)
    assert listing.dataset.n_classes == 15 and listing.dataset.words == ("classe", "classes")
    assert listing.notes == ["left out 2 file(s): 1 image(s) have the same bytes in two or more classes (e.g. "
                             "n02111129-Leonberg/n02111129_00000.jpg = n99999999-Wolf/a.jpg); an image has one class: "
                             "keep one copy, in its class, to use it"]
    assert len(listing.table) == 14 * 12 - 1 and "n99999999-Wolf/a.jpg" not in set(listing.table["file"])
    with pytest.raises(LionpocError, match="too few readable images to split for: n99999999-Wolf \\(0\\); each "
                                           "class needs at least 10 for the stratified 80/10/10 split"):
        data.make_split(listing.table, "random", copy, (0.8, 0.1, 0.1), 0, list(listing.dataset.folders))


def test_a_breed_folder_spelt_otherwise_is_named_in_one_sentence(tmp_path, synthetic_dir):
    copy = tmp_path / "dogs"
    shutil.copytree(synthetic_dir, copy)
    (copy / "n02110806-basenji").rename(copy / "n02110806-Basenji")
    with pytest.raises(LionpocError, match="the class folder 'n02110806-Basenji' in .* differs from the Stanford "
                                           "Dogs breed folder 'n02110806-basenji' only in case or spacing"):
        data.list_images(copy)


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
