"""The study's per-class records, for a report that must stay readable with 40 or 100 classes.

- ``class_scores.csv``: one row per (optimizer, class): precision, recall and F1 on the test images, averaged
  over the seeds, with the class's rank by F1 within the optimizer (1 = best), so that the report can show
  the best and worst classes instead of a 100-row table;
- ``confusions.csv``: per optimizer, the most frequent confusions (true class, predicted class), summed over
  the seeds, as a share of the true class's test images, flagged when the two are announced look-alikes;
- ``thumbnails.png``: a few training images of each class, one row per class (up to ``THUMBNAIL_CLASSES``
  classes), so the reader sees what the classes look like.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lionpoc import files
from lionpoc.data import datasets
from lionpoc.study import layout

CLASS_SCORES = "class_scores.csv"
CONFUSIONS = "confusions.csv"
THUMBNAILS = "thumbnails.png"
TOP_CONFUSIONS = 20          # confusions kept per optimizer
THUMBNAIL_CLASSES = 20       # beyond this many classes, no thumbnails figure (one row per class would not fit)
THUMBNAILS_PER_CLASS = 6
THUMBNAIL_PIXELS = 64


def _runs(results_dir: Path, optimizers: list[str]) -> pd.DataFrame:
    found = layout.find_runs(results_dir)
    keep = [not layout.is_damaged(Path(p)) and o in optimizers for o, p in zip(found["optimizer"], found["path"])]
    return found[keep] if len(found) else found


def class_scores(results_dir: Path, dataset: datasets.DataSet, optimizers: list[str]) -> pd.DataFrame:
    """Per optimizer and class: mean precision, recall, F1 over the seeds, test images, rank by F1."""
    folder_of = dict(zip(dataset.names, dataset.folders))
    rows = []
    for optimizer, group in _runs(results_dir, optimizers).groupby("optimizer", sort=False):
        reports = [pd.read_csv(Path(p) / "classification_report.csv", index_col=0) for p in group["path"]]
        for name in dataset.names:
            scores = pd.DataFrame([r.loc[name] for r in reports if name in r.index])
            if scores.empty:
                continue
            rows.append({"optimizer": optimizer, "folder": folder_of[name], "name": name,
                         "display": dataset.display_of(folder_of[name]),
                         "precision": float(scores["precision"].mean()), "recall": float(scores["recall"].mean()),
                         "f1": float(scores["f1-score"].mean()), "f1_min": float(scores["f1-score"].min()),
                         "f1_max": float(scores["f1-score"].max()), "support": int(scores["support"].iloc[0]),
                         "seeds": len(scores)})
    table = pd.DataFrame(rows, columns=["optimizer", "folder", "name", "display", "precision", "recall", "f1",
                                        "f1_min", "f1_max", "support", "seeds"])
    table["rank"] = table.groupby("optimizer")["f1"].rank(method="first", ascending=False).astype(int)
    return table.sort_values(["optimizer", "rank"], kind="stable", ignore_index=True)


def confusions(results_dir: Path, dataset: datasets.DataSet, optimizers: list[str],
               top: int = TOP_CONFUSIONS) -> pd.DataFrame:
    """Per optimizer, the ``top`` most frequent (true, predicted) confusions summed over its seeds."""
    folder_of = dict(zip(dataset.names, dataset.folders))
    rows = []
    for optimizer, group in _runs(results_dir, optimizers).groupby("optimizer", sort=False):
        total = None
        for path in group["path"]:
            matrix = pd.read_csv(Path(path) / "confusion.csv", index_col=0)
            matrix = matrix.reindex(index=list(dataset.names), columns=list(dataset.names), fill_value=0)
            total = matrix if total is None else total + matrix
        counts = total.to_numpy()
        support = counts.sum(axis=1)
        off = counts.copy()
        np.fill_diagonal(off, 0)
        order = np.argsort(-off, axis=None, kind="stable")[:top]
        for flat in order:
            i, j = divmod(int(flat), len(dataset.names))
            if off[i, j] == 0:
                break
            a, b = folder_of[dataset.names[i]], folder_of[dataset.names[j]]
            rows.append({"optimizer": optimizer, "true": a, "predicted": b, "true_display": dataset.display_of(a),
                         "predicted_display": dataset.display_of(b), "count": int(off[i, j]), "seeds": len(group),
                         "share": float(off[i, j] / support[i]) if support[i] else 0.0,
                         "lookalike": dataset.lookalike(a, b)})
    return pd.DataFrame(rows, columns=["optimizer", "true", "predicted", "true_display", "predicted_display", "count",
                                       "seeds", "share", "lookalike"])


def thumbnails(table: pd.DataFrame, root: Path, dataset: datasets.DataSet, per_class: int = THUMBNAILS_PER_CLASS,
               pixels: int = THUMBNAIL_PIXELS):
    """A figure of ``per_class`` training images of each class (the first ones in file order), one row per
    class, its display name on the left; None beyond ``THUMBNAIL_CLASSES`` classes."""
    import matplotlib.pyplot as plt
    from PIL import Image, ImageOps

    if dataset.n_classes > THUMBNAIL_CLASSES:
        return None
    train = table[table["split"] == "train"].sort_values("file")
    grid = np.full((dataset.n_classes * (pixels + 4), per_class * (pixels + 4), 3), 255, np.uint8)
    for row, folder in enumerate(dataset.folders):
        for col, file in enumerate(train.loc[train["breed"] == folder, "file"].head(per_class)):
            try:
                with Image.open(root / file) as image:
                    small = ImageOps.fit(image.convert("RGB"), (pixels, pixels))
            except OSError:
                continue
            y, x = row * (pixels + 4) + 2, col * (pixels + 4) + 2
            grid[y:y + pixels, x:x + pixels] = np.asarray(small)
    height = dataset.n_classes * 0.62 + 0.2
    fig, ax = plt.subplots(figsize=(2.2 + per_class * 0.62, height), constrained_layout=True)
    ax.imshow(grid)
    ax.set_xticks([])
    ax.set_yticks([row * (pixels + 4) + 2 + pixels / 2 for row in range(dataset.n_classes)],
                  [name.replace("$", r"\$") for name in dataset.display], fontsize=9)  # "$" would open mathtext
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    return fig


def write_tables(results_dir: Path, dataset: datasets.DataSet, configs, prep=None) -> None:
    """Write ``class_scores.csv`` and ``confusions.csv`` from the runs of the study's optimizers, and the
    thumbnails figure when the images are here (``prep``) and the classes few enough."""
    optimizers = [c.optimizer for c in configs]
    files.write_csv(Path(results_dir) / CLASS_SCORES, class_scores(results_dir, dataset, optimizers))
    files.write_csv(Path(results_dir) / CONFUSIONS, confusions(results_dir, dataset, optimizers))
    target = Path(results_dir) / THUMBNAILS
    figure = thumbnails(prep.table, prep.listing.root, dataset) if prep is not None and prep.listing else None
    if figure is None:
        target.unlink(missing_ok=True)
        return
    import matplotlib.pyplot as plt

    files.save_figure(target, figure)
    plt.close(figure)
