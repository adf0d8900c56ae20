"""Reading a data folder: its layout, its class folders, its images, and what must be said about them.

Two layouts, as Keras's ``image_dataset_from_directory`` and torchvision's ``ImageFolder`` users have them:

- ``<dir>/<class>/<image>``: one subfolder per class (``<dir>/Images/<class>/`` too, the official
  Stanford Dogs layout); the study draws its stratified split;
- ``<dir>/train/<class>/``, ``<dir>/val/<class>/`` (or ``validation/``) and ``<dir>/test/<class>/``: the split
  is given and used as it is; without a validation folder, validation is drawn (stratified) from train.

Class folders that differ only in case or spacing (from each other, or from the registry's folder names) are
refused in one sentence; folders nested inside a class folder and files that are not images by their names
are ignored and counted; an image whose bytes appear in two classes is left out (an image has one class),
with a note; the same bytes twice in one class are noted (the copies may fall on both sides of the split).
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from lionpoc.data import datasets
from lionpoc.data import description
from lionpoc.errors import LionpocError

DATA_ENV = "LIONPOC_DATA"
SYNTHETIC_MARKER = "SYNTHETIC.txt"  # written by ``lionpoc synth``; tells the report the data is fake
# What Pillow reads, by file name (a file that is not what its name says is skipped when decoded, and counted).
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
# The names of the parts of a given split, compared without regard to case.
PART_FOLDERS = {"train": ("train", "training"), "val": ("val", "validation", "valid"), "test": ("test", "testing")}
EXAMPLES = 3  # files or folders a note names before "..."


@dataclass
class Listing:
    """A data folder, read: its data set, its images and what was noticed on the way."""

    data_dir: Path
    root: Path                                   # where the class folders (or train/ val/ test/) are
    dataset: datasets.DataSet
    table: pd.DataFrame                          # file (relative to root), breed (class folder), label[, given]
    layout: str = "classes"                      # "classes" or "splits" (train/ val/ test/ given)
    parts: dict = field(default_factory=dict)    # with "splits": the folder of each part ({"train": "train", ...})
    notes: list[str] = field(default_factory=list)
    left_out: list[list[str]] = field(default_factory=list)   # groups of files with the same bytes in 2+ classes
    repeated: list[list[str]] = field(default_factory=list)   # groups of files with the same bytes in one class
    ignored: dict = field(default_factory=dict)  # counts: "nested folders", "not images", "loose images"

    @property
    def split_given(self) -> bool:
        return self.layout == "splits"


def hint(data_dir: Path) -> str:
    return (f"point --data-dir (or ${DATA_ENV}) to a folder with one subfolder of images per class (or train/, "
            f"val/ and test/ folders holding the class folders), or run `lionpoc download --data-dir {data_dir}` "
            "on a machine with internet for the 15 Stanford Dogs breeds")


def images_root(data_dir: Path) -> Path:
    """Where the class folders live: ``<dir>/Images`` (official archive layout) or ``<dir>`` itself."""
    return data_dir / "Images" if (data_dir / "Images").is_dir() else data_dir


def _visible(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith(".") and p.name != "__MACOSX")


def _examples(items: list[str]) -> str:
    return ", ".join(items[:EXAMPLES]) + (", ..." if len(items) > EXAMPLES else "")


def find_parts(root: Path) -> dict[str, str] | None:
    """``{"train": "train", "val": "validation", "test": "test"}`` when ``root`` holds a given split (at least
    train and test), else None."""
    folders = {p.name.casefold(): p.name for p in _visible(root) if p.is_dir()}
    found = {part: next((folders[n] for n in names if n in folders), None) for part, names in PART_FOLDERS.items()}
    if found["train"] is None and found["test"] is None:
        return None
    if found["train"] is None or found["test"] is None:
        if found["train"] is None and len(folders) > 1 and found["val"] is None:
            return None  # a class that happens to be called "test" among others
        have = ", ".join(f"{v}/" for v in found.values() if v)
        lacking = "train/" if found["train"] is None else "test/"
        raise LionpocError(f"{root} holds {have} but no {lacking} folder: a given split needs train/ and test/ "
                           "(val/ or validation/ is optional, drawn from train/ otherwise); or put the class "
                           f"folders directly in {root} for a stratified random split.")
    return {part: name for part, name in found.items() if name}


def check_names(folders: list[str], where: Path) -> None:
    """Refuse class folders that differ only in case or spacing from each other or from the registry's."""
    seen: dict[str, str] = {}
    for folder in folders:
        key = datasets.name_key(folder)
        if key in seen and seen[key] != folder:
            raise LionpocError(f"the class folders {seen[key]!r} and {folder!r} in {where} differ only in case or "
                               "spacing: they would be two classes; merge them into one folder, or rename one.")
        seen[key] = folder
    for entry in datasets.REGISTRY.values():
        official = {datasets.name_key(f): f for f in entry.folders}
        for folder in folders:
            twin = official.get(datasets.name_key(folder))
            if twin is not None and twin != folder:
                raise LionpocError(f"the class folder {folder!r} in {where} differs from the Stanford Dogs breed "
                                   f"folder {twin!r} only in case or spacing: rename it {twin!r} (the study then "
                                   "knows the breed), or give it a name of its own.")


def class_folders(folder: Path, data_dir: Path) -> tuple[list[str], int]:
    """The class folders of ``folder`` and how many images lie loose beside them (not in any class)."""
    entries = _visible(folder)
    classes = [p.name for p in entries if p.is_dir()]
    loose = sum(1 for p in entries if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not classes and loose:
        raise LionpocError(f"{folder} holds {loose} image(s) but no class folders: put each class's images in a "
                           f"subfolder named after the class; {hint(data_dir)}.")
    return classes, loose


def read(data_dir: Path) -> Listing:
    """Read the data folder ``data_dir``: layout, classes, images (sorted), notes; refusals in one sentence."""
    data_dir = Path(data_dir)
    if not data_dir.exists():
        raise LionpocError(f"data directory {data_dir} does not exist: {hint(data_dir)}.")
    if not data_dir.is_dir():
        raise LionpocError(f"data directory {data_dir} is not a directory: {hint(data_dir)}.")
    root = images_root(data_dir)
    if not _visible(root):
        raise LionpocError(f"data directory {data_dir} is empty: {hint(data_dir)}.")
    parts = find_parts(root)
    notes: list[str] = []
    ignored = defaultdict(int)
    if parts is None:
        folders, loose = class_folders(root, data_dir)
        places = {"": folders}
    else:
        extra = [p.name for p in _visible(root) if p.is_dir() and p.name not in parts.values()]
        if extra:
            notes.append(f"ignored {len(extra)} folder(s) beside {', '.join(f'{v}/' for v in parts.values())}: "
                         f"{_examples(extra)}")
        places, loose = {}, 0
        for part, name in parts.items():
            found, stray = class_folders(root / name, data_dir)
            places[name], loose = found, loose + stray
        every = [f for found in places.values() for f in found]
        check_names(list(dict.fromkeys(every)), root)
        for part, name in parts.items():
            absent = sorted(set(every) - set(places[name]), key=datasets.sort_key)
            if absent:
                raise LionpocError(f"{root / name} lacks the class folder(s) {_examples(absent)} that other parts of "
                                   "the split have: every class needs images in train/ and test/ (and val/ when "
                                   "there is one).")
        folders = places[parts["train"]]
    if loose:
        ignored["loose images"] = loose
        notes.append(f"ignored {loose} image(s) lying beside the class folders, in no class")
    check_names(folders, root)
    if not folders:
        raise LionpocError(f"{root} holds no class folder: put each class's images in a subfolder named after the "
                           f"class; {hint(data_dir)}.")
    if len(folders) < 2:
        raise LionpocError(f"{root} holds 1 class folder ({folders[0]}): a classifier needs at least 2 classes; "
                           f"{hint(data_dir)}.")
    dataset = datasets.for_folders(folders, _default_name(data_dir, folders),
                                   synthetic=(data_dir / SYNTHETIC_MARKER).exists())
    if dataset.key == "folder":
        dataset = description.apply(dataset, description.find(data_dir))
        official = datasets.STANFORD_DOGS_15.folders
        if all(f in official for f in folders):
            absent = [f for f in official if f not in folders]
            notes.append(f"{len(folders)} of the 15 Stanford Dogs breed folders ({len(absent)} absent: "
                         f"{_examples(absent)}): studied as a data set of its own, without the comparison with the "
                         "2023 study (made on all 15)")
    elif description.find(data_dir):
        notes.append(f"ignored {description.find(data_dir).name}: the {dataset.name} data set is described by the "
                     "registry")
    label = {f: i for i, f in enumerate(dataset.folders)}
    rows, nested, strange = [], [], []
    for place, found in places.items():
        for folder in found:
            base = root / place / folder if place else root / folder
            prefix = f"{place}/{folder}" if place else folder
            for path in _visible(base):
                if path.is_dir():
                    nested.append(f"{prefix}/{path.name}")
                elif path.suffix.lower() in IMAGE_SUFFIXES:
                    rows.append((f"{prefix}/{path.name}", folder, label[folder], _part_of(place, parts)))
                elif path.is_file():
                    strange.append(f"{prefix}/{path.name}")
    if nested:
        ignored["nested folders"] = len(nested)
        notes.append(f"ignored {len(nested)} folder(s) nested inside class folders ({_examples(nested)}): only the "
                     "images directly in a class folder belong to it")
    if strange:
        ignored["not images"] = len(strange)
        notes.append(f"skipped {len(strange)} file(s) whose names are not those of images ({_examples(strange)})")
    table = pd.DataFrame(rows, columns=["file", "breed", "label", "given"]).sort_values("file", ignore_index=True)
    if parts is None:
        table = table.drop(columns="given")
    listing = Listing(data_dir, root, dataset, table, "splits" if parts else "classes", parts or {}, notes,
                      ignored=dict(ignored))
    _same_bytes(listing)
    return listing


def _part_of(place: str, parts: dict | None) -> str | None:
    if not parts:
        return None
    return next(part for part, name in parts.items() if name == place)


def _default_name(data_dir: Path, folders: list[str]) -> str:
    known = set(datasets.STANFORD_DOGS_15.folders)
    if all(f in known for f in folders):
        return f"Stanford Dogs, {len(folders)} races"
    name = data_dir.resolve().name if data_dir.name in ("", ".") else data_dir.name
    return datasets.shown(name)


def _same_bytes(listing: Listing) -> None:
    """Find files with the same bytes (by size, then SHA-256 of the candidates): across classes they are left
    out of the table; within a class they are noted."""
    table, root = listing.table, listing.root
    if table.empty:
        return
    sizes = pd.Series([(root / f).stat().st_size for f in table["file"]], index=table.index)
    candidates = sizes[sizes.duplicated(keep=False)].index
    groups = defaultdict(list)
    for i in candidates:
        groups[(sizes[i], _digest(root / table.at[i, "file"]))].append(i)
    drop = []
    for rows in groups.values():
        if len(rows) < 2:
            continue
        names = table.loc[rows, "file"].tolist()
        if table.loc[rows, "breed"].nunique() > 1:
            listing.left_out.append(names)
            drop.extend(rows)
        else:
            listing.repeated.append(names)
    if listing.left_out:
        count = sum(len(g) for g in listing.left_out)
        first = listing.left_out[0]
        listing.notes.append(
            f"left out {count} file(s): {len(listing.left_out)} image(s) have the same bytes in two or more classes "
            f"(e.g. {' = '.join(first[:2])}); an image has one class: keep one copy, in its class, to use it")
        listing.table = table.drop(index=drop).reset_index(drop=True)
    if listing.repeated:
        first = listing.repeated[0]
        listing.notes.append(
            f"{len(listing.repeated)} image(s) appear more than once with the same bytes in one class (e.g. "
            f"{' = '.join(first[:2])}): the copies may fall on both sides of the split")


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
