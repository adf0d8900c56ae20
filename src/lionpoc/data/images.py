"""Finding the images of a data set, listing them, and splitting them deterministically.

Reading a data folder (its layout, classes and the checks on them) is ``folders.read``; this module keeps the
functions the pipeline calls: where the data is, the listing as a table, the split and its counts.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from lionpoc.data import folders
from lionpoc.data.folders import DATA_ENV, IMAGE_SUFFIXES, SYNTHETIC_MARKER, Listing, images_root  # noqa: F401
from lionpoc.errors import LionpocError

DEFAULT_DATA_DIR = Path("data/raw/stanford_dogs")
MIN_IMAGES_PER_BREED = 3  # one image in each of train, validation and test


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The data directory: the argument, else ``$LIONPOC_DATA``, else ``data/raw/stanford_dogs``."""
    chosen = data_dir or os.environ.get(DATA_ENV) or DEFAULT_DATA_DIR
    return Path(chosen).expanduser()


def data_kind(data_dir: Path) -> str:
    """``synthetic`` for a set made by ``lionpoc synth``, ``stanford_dogs`` for breed folders, else ``folder``."""
    return read(data_dir).dataset.kind


def read(data_dir: Path) -> Listing:
    """The data folder read once: its data set, its images, the notes (see ``folders.read``)."""
    return folders.read(Path(data_dir))


def check_data_dir(data_dir: Path) -> tuple[Path, list[str]]:
    """Check the data folder can be read; return the images root and the notes on what was ignored."""
    listing = read(data_dir)
    return listing.root, listing.notes


def list_images(data_dir: Path) -> tuple[pd.DataFrame, list[str]]:
    """All candidate image files, sorted, as ``file`` (relative to the images root), ``breed`` (the class
    folder: the column keeps its first name), ``label`` (the class's index), and ``given`` (the part of a
    given split) when the folder holds train/ val/ test/.

    The sorted order makes every later step (features, split) independent of the file system's order.
    """
    listing = read(data_dir)
    return listing.table, listing.notes


def split_random(table: pd.DataFrame, fractions=(0.8, 0.1, 0.1), seed: int = 0) -> pd.Series:
    """Stratified train/val/test assignment with scikit-learn, reproducible from the seed.

    The test part is drawn first with ``test_size=fractions[2]`` (on the 3,254 images of the
    15 breeds, 10 % gives the 326 test images of the 2023 study), then validation from the rest.
    """
    _check_class_sizes(table)
    _, val_f, test_f = fractions
    index = np.arange(len(table))
    rest, test = train_test_split(index, test_size=test_f, stratify=table["label"], random_state=seed)
    train, val = train_test_split(rest, test_size=val_f / (1.0 - test_f),
                                  stratify=table["label"].iloc[rest], random_state=seed)
    split = pd.Series("train", index=table.index, name="split")
    split.iloc[val] = "val"
    split.iloc[test] = "test"
    return split


def split_official(table: pd.DataFrame, data_dir: Path, val_fraction: float = 0.1, seed: int = 0) -> pd.Series:
    """The official Stanford Dogs train/test lists; validation is drawn (stratified) from the train list."""
    lists = data_dir / "lists"
    train_list, test_list = lists / "train_list_15.txt", lists / "test_list_15.txt"
    if not (train_list.is_file() and test_list.is_file()):
        raise LionpocError(
            f"--split official needs {train_list} and {test_list} (written by `lionpoc download`); "
            "use the default random split otherwise.")
    official_test = set(test_list.read_text().split())
    official_train = set(train_list.read_text().split())
    split = pd.Series("", index=table.index, name="split")
    split[table["file"].isin(official_test)] = "test"
    in_train = table["file"].isin(official_train)
    split[in_train] = "train"
    unlisted = table.loc[split == "", "file"]
    if len(unlisted):
        raise LionpocError(f"{len(unlisted)} image(s) are in neither official list, e.g. {unlisted.iloc[0]}.")
    train_index = np.flatnonzero(in_train.to_numpy())
    _check_class_sizes(table.iloc[train_index], needed=2)
    total = len(table)
    _, val = train_test_split(train_index, test_size=min(0.5, val_fraction * total / len(train_index)),
                              stratify=table["label"].iloc[train_index], random_state=seed)
    split.iloc[val] = "val"
    return split


def split_given(table: pd.DataFrame, val_fraction: float = 0.1, seed: int = 0,
                classes: list[str] | None = None) -> pd.Series:
    """The split the data folder gives (train/ val/ test/), as it is; without val/, validation is drawn
    (stratified, about ``val_fraction`` of all the images) from train/."""
    split = pd.Series(table["given"].to_numpy(), index=table.index, name="split")
    parts = ("train", "val", "test") if (split == "val").any() else ("train", "test")
    for part in parts:
        _check_class_sizes(table[split == part], 2 if part == "train" and "val" not in parts else 1, classes,
                           f"the {part} part of the given split")
    if "val" not in parts:
        train_index = np.flatnonzero((split == "train").to_numpy())
        _, val = train_test_split(train_index, test_size=min(0.5, val_fraction * len(table) / len(train_index)),
                                  stratify=table["label"].iloc[train_index], random_state=seed)
        split.iloc[val] = "val"
    return split


def make_split(table: pd.DataFrame, split: str, data_dir: Path, fractions, seed: int,
               classes: list[str] | None = None) -> pd.DataFrame:
    """Return the table with a ``split`` column, by the named method; a split the data folder gives
    (train/ val/ test/, the table's ``given`` column) is used as it is. ``classes``: every class folder, so
    that a class left without any readable image is named too."""
    if "given" in table.columns:
        if split == "official":
            raise LionpocError(f"--split official is the split of the Stanford Dogs lists, but {data_dir} gives its own "
                               "split (train/ val/ test/ folders), which the study uses as it is: leave out --split.")
        column = split_given(table, fractions[1], seed, classes)
        return table.drop(columns="given").assign(split=column.to_numpy())
    if split == "official":
        column = split_official(table, data_dir, fractions[1], seed)
    else:
        n_classes = len(classes) if classes is not None else table["label"].nunique()
        needed = min_images_per_class(tuple(fractions), max(2, n_classes))
        _check_class_sizes(table, needed, classes, fractions=fractions)
        try:
            column = split_random(table, fractions, seed)
        except ValueError as exc:  # scikit-learn's own refusal, for unequal classes near the minimum
            raise LionpocError(f"cannot split these images into train, validation and test ({exc}); "
                               f"give each class at least {needed + 2} images.") from None
        column = _check_every_part(table, column, needed)
    return table.assign(split=column.to_numpy())


def _check_every_part(table: pd.DataFrame, column: pd.Series, needed: int) -> pd.Series:
    """Each class must have images in validation and test (a very small class beside large ones may get none)."""
    counts = pd.crosstab(table["breed"], column.to_numpy())
    empty = [name for name in counts.index if (counts.loc[name, ["val", "test"]] == 0).any()] \
        if {"val", "test"} <= set(counts.columns) else list(counts.index)
    if empty:
        sizes = table["breed"].value_counts()
        raise LionpocError(f"the stratified split leaves no validation or test image to the class(es) "
                           f"{', '.join(f'{n} ({sizes[n]} images)' for n in empty[:5])}: give each class at least "
                           f"{needed + 2} images, or leave those folders out.")
    return column


@lru_cache(maxsize=None)
def min_images_per_class(fractions: tuple = (0.8, 0.1, 0.1), n_classes: int = 15) -> int:
    """The fewest images per class that the stratified random split accepts (10 for 80/10/10).

    Found by trying the split on ``n_classes`` equal classes: the test and validation parts must each
    hold at least one image of every class.
    """
    for k in range(MIN_IMAGES_PER_BREED, 1000):
        table = pd.DataFrame({"breed": np.repeat([f"c{i}" for i in range(n_classes)], k),
                              "label": np.repeat(np.arange(n_classes), k)})
        try:
            column = split_random(table, fractions, 0)
            counts = pd.crosstab(table["label"], column.to_numpy())
            if {"val", "test"} <= set(counts.columns) and (counts[["val", "test"]] > 0).all().all():
                return k
        except (ValueError, LionpocError):
            continue
    return 1000


def min_images_per_breed(fractions: tuple = (0.8, 0.1, 0.1)) -> int:
    """The same for the 15 breeds (what ``lionpoc synth`` needs)."""
    return min_images_per_class(tuple(fractions), 15)


def split_counts(split_table: pd.DataFrame) -> pd.DataFrame:
    """Images per class (rows: class folders, in label order) and per split (columns train/val/test/total)."""
    order = split_table.drop_duplicates("label").sort_values("label")["breed"].tolist()
    counts = pd.crosstab(split_table["breed"], split_table["split"]).reindex(
        index=order, columns=["train", "val", "test"], fill_value=0)
    counts["total"] = counts.sum(axis=1)
    return counts


def split_name(fractions) -> str:
    """``80/10/10`` for the fractions (0.8, 0.1, 0.1)."""
    return "/".join(f"{100 * f:.0f}" for f in fractions)


def _check_class_sizes(table: pd.DataFrame, needed: int = MIN_IMAGES_PER_BREED, classes: list[str] | None = None,
                       where: str = "", fractions=(0.8, 0.1, 0.1)) -> None:
    sizes = table["breed"].value_counts()
    names = classes if classes is not None else sorted(sizes.index, key=lambda n: table.loc[table["breed"] == n,
                                                                                            "label"].iloc[0])
    short = [f"{name} ({sizes.get(name, 0)})" for name in names if sizes.get(name, 0) < needed]
    if short:
        if where:
            raise LionpocError(f"{where} has too few readable images for: {', '.join(short)}; each class needs at "
                               f"least {needed} there.")
        one = len(short) == 1
        raise LionpocError(
            f"too few readable images to split for: {', '.join(short)}; each class needs at least {needed} for the "
            f"stratified {split_name(fractions)} split to give it images in train, validation and test: add images to "
            f"{'it' if one else 'them'} or leave {'its folder' if one else 'their folders'} out.")
