"""What the study records about its data (``study.json``'s ``data``): the data set, how it was split, the images
of each class in each part, what was skipped or left out, and the class imbalance the report must mention."""
from __future__ import annotations

import pandas as pd

from lionpoc.data.folders import Listing

# Largest class over smallest class (images) from which the report says the classes are imbalanced: accuracy
# then favours the large classes, and the macro-F1 (every class weighs the same) is the score to read.
IMBALANCE_RATIO = 1.5
SAME_BYTES_LISTED = 20  # groups of identical files named in the record (all are counted)


def split_method(listing: Listing, split: str, table: pd.DataFrame | None = None) -> str:
    """``random``, ``official``, ``given`` (train/ val/ test/ as they are) or ``given, validation drawn from train``."""
    if not listing.split_given:
        return split
    return "given" if "val" in listing.parts else "given, validation drawn from train"


def class_counts(listing: Listing, split_table: pd.DataFrame, skipped: list[dict] | None = None) -> pd.DataFrame:
    """One row per class, in label order: folder, name (run files), display (report), images per part, total,
    unreadable files skipped."""
    dataset = listing.dataset
    counts = pd.crosstab(split_table["breed"], split_table["split"]).reindex(
        index=list(dataset.folders), columns=["train", "val", "test"], fill_value=0)
    unreadable = pd.Series(0, index=list(dataset.folders))
    folder_of = dict(zip(listing.table["file"], listing.table["breed"]))
    for item in skipped or []:
        folder = folder_of.get(item["file"])
        if folder is not None:
            unreadable[folder] += 1
    return pd.DataFrame({"folder": list(dataset.folders), "name": list(dataset.names), "display": list(dataset.display),
                         "train": counts["train"].to_numpy(), "val": counts["val"].to_numpy(),
                         "test": counts["test"].to_numpy(), "total": counts.sum(axis=1).to_numpy(),
                         "unreadable": unreadable.to_numpy()})


def imbalance(counts: pd.DataFrame) -> dict:
    """The largest and smallest classes (readable images) and their ratio; ``imbalanced`` from 1.5."""
    largest, smallest = counts.loc[counts["total"].idxmax()], counts.loc[counts["total"].idxmin()]
    ratio = float(largest["total"]) / max(1, float(smallest["total"]))
    return {"largest": {"folder": largest["folder"], "display": largest["display"], "images": int(largest["total"])},
            "smallest": {"folder": smallest["folder"], "display": smallest["display"],
                         "images": int(smallest["total"])},
            "ratio": round(ratio, 4), "imbalanced": ratio >= IMBALANCE_RATIO, "threshold": IMBALANCE_RATIO}


def record(listing: Listing, split_table: pd.DataFrame, split: str, skipped: list[dict] | None = None) -> dict:
    """``study.json``'s ``data``: the data set (``DataSet.record``) and what this study made of its folder."""
    counts = class_counts(listing, split_table, skipped)
    parts = split_table["split"].value_counts()
    return {
        **listing.dataset.record(),
        "data_dir": str(listing.data_dir), "layout": listing.layout, "split": split_method(listing, split),
        "given_folders": listing.parts or None,
        "images": int(len(split_table)), "train": int(parts.get("train", 0)), "val": int(parts.get("val", 0)),
        "test": int(parts.get("test", 0)),
        "classes": counts.to_dict(orient="records"),
        "imbalance": imbalance(counts),
        "unreadable": len(skipped or []),
        "same_bytes_across_classes": {"files_left_out": sum(len(g) for g in listing.left_out),
                                      "groups": listing.left_out[:SAME_BYTES_LISTED]},
        "same_bytes_within_a_class": {"groups": len(listing.repeated),
                                      "examples": listing.repeated[:SAME_BYTES_LISTED]},
        "ignored": listing.ignored, "notes": listing.notes,
    }
