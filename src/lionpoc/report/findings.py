"""What the results are, before any sentence: the regime of a study as frozen values with named outcomes.

Pure: it reads the loaded ``ReportData`` and formats nothing. The pre-render step writes ``Regime.flags()`` into
the report's metadata (``lionpoc:`` in ``report/_metadata.yml``), where ``report/index.qmd`` selects its blocks
with Quarto's conditional content (``when-meta="lionpoc.pretrained"``); the sentences read the same values.
"""
from __future__ import annotations

import enum
from dataclasses import asdict, dataclass

from lionpoc.data import breeds
from lionpoc.report.data import ReportData

CHANCE = 1 / len(breeds.FOLDERS)


class Images(enum.Enum):
    NONE = "none"              # no results yet
    SYNTHETIC = "synthetic"    # coloured shapes (--smoke)
    PHOTOS = "photos"          # Stanford Dogs photos as found
    CROPPED = "cropped"        # the photos cropped to the dog's box


class Weights(enum.Enum):
    RANDOM = "random"
    PRETRAINED = "pretrained"


def collapsed(accuracy: float) -> bool:
    """Fine-tuning destroyed the head: accuracy at most 1.5 x chance (1/15)."""
    return accuracy <= 1.5 * CHANCE


@dataclass(frozen=True)
class Regime:
    """What these results are and which parts of the report they fill."""

    images: Images
    weights: Weights
    xception: bool
    compared: bool          # the focus and at least one rival have results
    rivals: int             # how many rivals the focus is compared with
    fine_tune: bool
    fine_tune_collapsed: bool
    sensitivity: bool
    timed: bool             # each chosen head timed alone (timing.csv)
    recorded: bool          # study.json present
    benchmark: bool
    baseline: bool          # the untrained ImageNet classifier could be scored
    cluster: bool
    tuning_recorded: bool   # the runs recorded their grid extensions
    grids_extended: bool    # every grid was extended at its edges (not --no-extend)

    @property
    def empty(self) -> bool:
        return self.images is Images.NONE

    @property
    def synthetic(self) -> bool:
        return self.images is Images.SYNTHETIC

    @property
    def pretrained(self) -> bool:
        """Pretrained weights on real photos: the regime that answers the question."""
        return self.weights is Weights.PRETRAINED and self.images in (Images.PHOTOS, Images.CROPPED)

    @property
    def random_photos(self) -> bool:
        """Real photos under random weights: the chain checked on real images."""
        return self.weights is Weights.RANDOM and self.images in (Images.PHOTOS, Images.CROPPED)

    def flags(self) -> dict:
        """The regime as the report's metadata: every key a boolean (``when-meta`` reads truthiness)."""
        flags = {k: v for k, v in asdict(self).items() if isinstance(v, bool)}
        flags.update({"empty": self.empty, "synthetic": self.synthetic, "pretrained": self.pretrained,
                      "random_photos": self.random_photos, "checks_chain": self.synthetic or self.random_photos,
                      "cropped": self.images is Images.CROPPED, "several_rivals": self.rivals > 1,
                      "fine_tune_worked": self.fine_tune and not self.fine_tune_collapsed,
                      "imagenet_overlap": self.pretrained, "one_rival": self.rivals == 1,
                      "pretrained_weights": self.weights is Weights.PRETRAINED,
                      "fixed_grids": self.tuning_recorded and not self.grids_extended,
                      # 2023's per-breed F1 came from a pretrained Xception on uncropped photos: only that compares.
                      "comparable_2023": self.pretrained and self.xception and self.images is Images.PHOTOS})
        return dict(sorted(flags.items()))


def regime(d: ReportData) -> Regime:
    if d.empty:
        images = Images.NONE
    elif d.synthetic:
        images = Images.SYNTHETIC
    else:
        images = Images.CROPPED if d.cropped_photos else Images.PHOTOS
    from lionpoc.report import sensitivity  # the sensitivity table is read there

    tuned = not d.fine_tune.empty
    rows = sensitivity.tuning_rows(d)
    return Regime(images=images, weights=Weights.PRETRAINED if d.pretrained else Weights.RANDOM,
                  xception=d.xception, compared=d.compared, rivals=len(d.rivals) if d.compared else 0,
                  fine_tune=tuned,
                  fine_tune_collapsed=tuned and all(collapsed(v) for v in d.fine_tune["after_mean"]),
                  sensitivity=not d.empty and sensitivity.exists(d), timed=not d.timing.empty,
                  recorded=bool(d.study), benchmark=d.benchmark is not None,
                  baseline=bool((d.baseline or {}).get("available")), cluster=bool((d.study or {}).get("cluster")),
                  tuning_recorded=not rows.empty, grids_extended=not rows.empty and bool(rows["extend"].all()))
