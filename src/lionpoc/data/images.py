"""Finding the images of the 15 breeds, listing them, and splitting them deterministically."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from lionpoc.data import breeds
from lionpoc.errors import LionpocError

DATA_ENV = "LIONPOC_DATA"
DEFAULT_DATA_DIR = Path("data/raw/stanford_dogs")
SYNTHETIC_MARKER = "SYNTHETIC.txt"  # written by ``lionpoc synth``; tells the report the data is fake
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp"}
MIN_IMAGES_PER_BREED = 3  # one image in each of train, validation and test


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The data directory: the argument, else ``$LIONPOC_DATA``, else ``data/raw/stanford_dogs``."""
    chosen = data_dir or os.environ.get(DATA_ENV) or DEFAULT_DATA_DIR
    return Path(chosen).expanduser()


def images_root(data_dir: Path) -> Path:
    """Where the breed folders live: ``<dir>/Images`` (official archive layout) or ``<dir>`` itself."""
    return data_dir / "Images" if (data_dir / "Images").is_dir() else data_dir


def data_kind(data_dir: Path) -> str:
    """``synthetic`` for a set made by ``lionpoc synth``, else ``stanford_dogs``."""
    return "synthetic" if (data_dir / SYNTHETIC_MARKER).exists() else "stanford_dogs"


def check_data_dir(data_dir: Path) -> tuple[Path, list[str]]:
    """Check the 15 breed folders are there; return the images root and notes on extra folders.

    Raises LionpocError naming the directory or the missing breeds, and how to get them.
    """
    hint = (f"run `lionpoc download --data-dir {data_dir}` on a machine with internet, or point "
            f"--data-dir (or ${DATA_ENV}) to a folder holding the 15 breed folders")
    if not data_dir.exists():
        raise LionpocError(f"data directory {data_dir} does not exist: {hint}.")
    if not data_dir.is_dir():
        raise LionpocError(f"data directory {data_dir} is not a directory: {hint}.")
    root = images_root(data_dir)
    present = {p.name for p in root.iterdir() if p.is_dir()}
    if not present and not any(root.iterdir()):
        raise LionpocError(f"data directory {data_dir} is empty: {hint}.")
    missing = [f for f in breeds.FOLDERS if f not in present]
    if missing:
        raise LionpocError(
            f"data directory {root} lacks {len(missing)} of the 15 breed folders "
            f"({', '.join(missing)}): {hint}.")
    extra = sorted(present - set(breeds.FOLDERS))
    notes = [f"ignored {len(extra)} folder(s) that are not among the 15 breeds: {', '.join(extra)}"] if extra else []
    return root, notes


def list_images(data_dir: Path) -> tuple[pd.DataFrame, list[str]]:
    """All candidate image files of the 15 breeds, sorted, as ``file`` (relative), ``breed``, ``label``.

    The sorted order makes every later step (features, split) independent of the file system's order.
    """
    root, notes = check_data_dir(data_dir)
    rows = []
    for label, folder in enumerate(breeds.FOLDERS):
        for path in sorted((root / folder).iterdir()):
            if path.is_file() and not path.name.startswith("."):
                if path.suffix.lower() in IMAGE_SUFFIXES:
                    rows.append((f"{folder}/{path.name}", folder, label))
                else:
                    notes.append(f"skipped {folder}/{path.name}: not an image file name")
    table = pd.DataFrame(rows, columns=["file", "breed", "label"])
    return table, notes


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


def make_split(table: pd.DataFrame, split: str, data_dir: Path, fractions, seed: int) -> pd.DataFrame:
    """Return the table with a ``split`` column, by the named method."""
    if split == "official":
        column = split_official(table, data_dir, fractions[1], seed)
    else:
        needed = min_images_per_breed(tuple(fractions))
        _check_class_sizes(table, needed)
        try:
            column = split_random(table, fractions, seed)
        except ValueError as exc:  # scikit-learn's own refusal, for unequal breeds near the minimum
            raise LionpocError(f"cannot split these images into train, validation and test ({exc}); "
                               f"give each breed at least {needed + 2} images.") from None
    return table.assign(split=column.to_numpy())


@lru_cache(maxsize=None)
def min_images_per_breed(fractions: tuple = (0.8, 0.1, 0.1)) -> int:
    """The fewest images per breed that the stratified random split accepts (10 for 80/10/10).

    Found by trying the split on equal breeds: the test and validation parts must each hold at
    least one image of every breed.
    """
    for k in range(MIN_IMAGES_PER_BREED, 1000):
        table = pd.DataFrame({"breed": np.repeat(breeds.FOLDERS, k), "label": np.repeat(np.arange(15), k)})
        try:
            split_random(table, fractions, 0)
            return k
        except (ValueError, LionpocError):
            continue
    return 1000


def split_counts(split_table: pd.DataFrame) -> pd.DataFrame:
    """Images per breed (rows, in study order) and per split (columns train/val/test/total)."""
    counts = pd.crosstab(split_table["breed"], split_table["split"]).reindex(
        index=list(breeds.FOLDERS), columns=["train", "val", "test"], fill_value=0)
    counts["total"] = counts.sum(axis=1)
    return counts


def _check_class_sizes(table: pd.DataFrame, needed: int = MIN_IMAGES_PER_BREED) -> None:
    sizes = table["breed"].value_counts()
    short = [f"{b} ({sizes.get(b, 0)})" for b in breeds.FOLDERS if sizes.get(b, 0) < needed]
    if short:
        raise LionpocError(
            f"too few readable images to split for: {', '.join(short)}; each breed needs at least {needed} "
            "(one in each of train, validation and test, in their proportions).")
