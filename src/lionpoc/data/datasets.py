"""Data sets as a registry, like optimizers and backbones: the shipped 15 Stanford Dogs breeds, and any folder.

A :class:`DataSet` says what the study's classes are (their folders, in label order), how the run files
name them (``names``) and how the report shows them (``display``), which word the report uses for them
("races" for breeds, "classes" otherwise), and what is known beyond the images: look-alike groups,
ImageNet indices (the zero-training baseline, and whether the pretrained base has already seen these
classes), a published reference study, a bibliography key, a description for the report.

The registry holds one entry, ``stanford_dogs_15``; :func:`for_folders` makes the generic entry for any
other set of class folders (``folder``), enriched by the registry where its folders are official breed
folders (a subset of the 15 breeds keeps its French names, look-alikes and ImageNet indices, not the 2023
comparison, which was made on all 15).
"""
from __future__ import annotations

import dataclasses
import re
import unicodedata

from lionpoc.data import breeds

# The word for a class, singular and plural, as the French report writes it.
BREED_WORDS = ("race", "races")
CLASS_WORDS = ("classe", "classes")


@dataclasses.dataclass(frozen=True)
class DataSet:
    """What the study knows about its data set, beyond its images."""

    key: str                                  # registry key: "stanford_dogs_15", or "folder" for any folder
    name: str                                 # shown in the report's title ("Stanford Dogs, 15 races", "Fleurs")
    folders: tuple[str, ...]                  # class folders, in label order
    names: tuple[str, ...]                    # class names in the run files (predictions, confusion, report)
    display: tuple[str, ...]                  # class names the report shows (French for the breeds)
    words: tuple[str, str] = CLASS_WORDS      # ("race", "races") for breeds
    lookalikes: tuple[tuple[str, ...], ...] = ()   # groups of folders announced as look-alikes
    imagenet_index: tuple[int, ...] | None = None  # each class's ImageNet-1k index, when all are ImageNet classes
    reference_results: str | None = None      # the published study to compare with ("study_2023")
    bib_key: str | None = None                # the data set's entry in report/references.bib
    description: str | None = None            # a paragraph for the report (from the description file)
    reference: str | None = None              # how to cite the data set (from the description file)
    described_by: str | None = None           # the description file it came from, if any
    download: bool = False                    # `lionpoc download` can fetch it (official archive, checksummed)
    synthetic: bool = False                   # made by `lionpoc synth`: shapes, not photographs

    @property
    def n_classes(self) -> int:
        return len(self.folders)

    @property
    def kind(self) -> str:
        """``data_kind`` of the run files: ``synthetic``, ``stanford_dogs`` (breed folders) or ``folder``."""
        if self.synthetic:
            return "synthetic"
        return "stanford_dogs" if self.key == STANFORD_DOGS_15.key else "folder"

    @property
    def imagenet_overlap(self) -> bool | None:
        """True when every class is an ImageNet-1k class (the pretrained base has seen them); None when unknown."""
        return True if self.imagenet_index is not None else None

    def display_of(self, folder: str) -> str:
        return self.display[self.folders.index(folder)]

    def lookalike(self, a: str, b: str) -> bool:
        """Are the two classes (folders) announced as look-alikes?"""
        return a != b and any(a in group and b in group for group in self.lookalikes)

    def record(self) -> dict:
        """The data set as JSON (``study.json``'s ``data``, a cluster worker's copy): :func:`from_record` reads it."""
        found = dataclasses.asdict(self)
        found["lookalikes"] = [list(group) for group in self.lookalikes]
        for key in ("folders", "names", "display", "words"):
            found[key] = list(found[key])
        if self.imagenet_index is not None:
            found["imagenet_index"] = list(self.imagenet_index)
        found.update(n_classes=self.n_classes, kind=self.kind, imagenet_overlap=self.imagenet_overlap)
        return found


def from_record(record: dict) -> DataSet:
    """The data set recorded by :meth:`DataSet.record`."""
    fields = {f.name for f in dataclasses.fields(DataSet)}
    values = {k: v for k, v in record.items() if k in fields}
    for key in ("folders", "names", "display", "words"):
        values[key] = tuple(values[key])
    values["lookalikes"] = tuple(tuple(group) for group in values.get("lookalikes", ()))
    if values.get("imagenet_index") is not None:
        values["imagenet_index"] = tuple(values["imagenet_index"])
    return DataSet(**values)


STANFORD_DOGS_15 = DataSet(
    key="stanford_dogs_15", name="Stanford Dogs, 15 races", folders=breeds.FOLDERS, names=breeds.NAMES,
    display=breeds.FRENCH, words=BREED_WORDS, lookalikes=breeds.LOOKALIKES,
    imagenet_index=tuple(breeds.IMAGENET_INDEX[breeds.wnid(f)] for f in breeds.FOLDERS),
    reference_results="study_2023", bib_key="khosla2011dogs", download=True)

REGISTRY = {STANFORD_DOGS_15.key: STANFORD_DOGS_15}


def get(key: str) -> DataSet:
    return REGISTRY[key]


# ---------------------------------------------------------------------------------- names of folders
def name_key(name: str) -> str:
    """What two class names that differ only in case, spacing or Unicode form share: ``Golden retriever``,
    ``golden_retriever`` and ``GOLDEN-RETRIEVER`` all give ``goldenretriever``."""
    return re.sub(r"[\s_\-]+", "", unicodedata.normalize("NFKC", name).casefold())


def sort_key(name: str) -> tuple:
    """Class order for any folder: alphabetical without regard to accents or case (``Érable`` beside
    ``erable``, before ``Frêne``), the name itself breaking ties; the same on every file system."""
    plain = "".join(c for c in unicodedata.normalize("NFD", name) if not unicodedata.combining(c))
    return plain.casefold(), unicodedata.normalize("NFC", name)


def shown(folder: str) -> str:
    """A folder name as the report shows it: Unicode composed, underscores as spaces (``chêne_vert`` ->
    ``chêne vert``)."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", folder).replace("_", " ")).strip()


def for_folders(folders, name: str, synthetic: bool = False) -> DataSet:
    """The data set of these class folders: the registry's entry when they are exactly its folders,
    else the generic entry (classes in :func:`sort_key` order, named after their folders)."""
    folders = list(folders)
    for entry in REGISTRY.values():
        if set(folders) == set(entry.folders):
            return dataclasses.replace(entry, synthetic=synthetic)
    ordered = tuple(sorted(folders, key=sort_key))
    known = {f: i for i, f in enumerate(STANFORD_DOGS_15.folders)}
    breeds_only = all(f in known for f in ordered)
    if breeds_only:  # a subset of the 15 breeds: their names, look-alikes and ImageNet indices still hold
        ordered = tuple(sorted(ordered, key=known.__getitem__))
        rows = [known[f] for f in ordered]
        groups = tuple(kept for group in STANFORD_DOGS_15.lookalikes
                       if len(kept := tuple(f for f in group if f in ordered)) > 1)
        return DataSet(key="folder", name=name, folders=ordered,
                       names=tuple(STANFORD_DOGS_15.names[i] for i in rows),
                       display=tuple(STANFORD_DOGS_15.display[i] for i in rows), words=BREED_WORDS,
                       lookalikes=groups, imagenet_index=tuple(STANFORD_DOGS_15.imagenet_index[i] for i in rows),
                       bib_key=STANFORD_DOGS_15.bib_key, synthetic=synthetic)
    names = tuple(unicodedata.normalize("NFC", f) for f in ordered)
    return DataSet(key="folder", name=name, folders=ordered, names=names,
                   display=tuple(shown(f) for f in ordered), synthetic=synthetic)
