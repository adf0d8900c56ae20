"""What the results are, before any sentence: the regime of a study as frozen values with named outcomes.

Pure: it reads the loaded ``ReportData`` and formats nothing. The pre-render step writes ``Regime.flags()`` into
the report's metadata (``lionpoc:`` in ``report/_metadata.yml``), where ``report/index.qmd`` selects its blocks
with Quarto's conditional content (``when-meta="lionpoc.pretrained"``); the sentences read the same values.
"""
from __future__ import annotations

import enum
import math

import numpy as np
import pandas as pd
from dataclasses import asdict, dataclass
from pathlib import Path
from scipy import stats as sp

from lionpoc.data import breeds
from lionpoc.report.data import ReportData

CHANCE = 1 / len(breeds.FOLDERS)
ALPHA = 0.05          # significance level of every test in the report
LEVEL = 1 - ALPHA     # the confidence level of every interval


class Verdict(str, enum.Enum):
    """A "focus − rival" comparison's outcome (a ``str``: ``verdict(p) == "significant"`` reads as it says)."""
    SIGNIFICANT = "significant"
    NOISE = "noise"


def seed_aware(pair: dict) -> bool:
    """Does this comparison have the two-stage interval (seeds, then test images)? Only with two seeds or more,
    in a table written since the study saved it."""
    low = pair.get("ci2_low")
    return low is not None and not math.isnan(float(low)) and int(pair.get("n_seeds") or 1) > 1


FEW_SEEDS = 5  # up to this many seeds, the two-stage bootstrap draws from few seed combinations


def bounds(pair: dict, joint: bool = False) -> tuple[float, float]:
    """The interval a verdict and page 1 rest on: the two-stage one (seeds and test images both vary), its
    Bonferroni-joint version when a sentence speaks of every rival at once; with one seed, or an older table, the
    test images' one. With three to ``FEW_SEEDS`` seeds the bootstrap resamples few seed combinations and
    understates the seeds' part: the interval is then widened to contain Student's interval over the seeds, at the
    joint level when the interval is the joint one (with two seeds, Student's interval, on one degree of freedom,
    says nothing), within the ±1 a difference can reach."""
    if not seed_aware(pair):
        return pair["ci_low"], pair["ci_high"]
    is_joint = joint and not math.isnan(float(pair.get("ci2_joint_low", math.nan)))
    low, high = (pair["ci2_joint_low"], pair["ci2_joint_high"]) if is_joint else (pair["ci2_low"], pair["ci2_high"])
    seed_low, k = float(pair.get("seed_ci_low", math.nan)), int(pair.get("n_seeds") or 1)
    if 3 <= k <= FEW_SEEDS and not math.isnan(seed_low):
        seed_high = float(pair["seed_ci_high"])
        centre, half = (seed_low + seed_high) / 2, (seed_high - seed_low) / 2
        if is_joint:  # Student's quantile at the joint level instead of the marginal one
            level, joint_level = float(pair.get("level", 0.95)), float(pair["joint_level"])
            half *= sp.t.ppf(0.5 + joint_level / 2, k - 1) / sp.t.ppf(0.5 + level / 2, k - 1)
        return max(-1.0, min(low, centre - half)), min(1.0, max(high, centre + half))
    return low, high


def covers(pair: dict) -> str:
    """What the interval of ``bounds`` lets vary, in words."""
    return ("les graines et les images de test" if seed_aware(pair) else
            "les images de test, les têtes entraînées restant fixes")


def seed_p(pair: dict) -> float:
    """The seed-level test's p (Student's t on the per-seed differences), Holm-adjusted within its family as the
    study saved it; NaN with one seed or in a table written before it was saved."""
    p = pair.get("p_seeds_holm")
    return float(p) if p is not None and seed_aware(pair) else math.nan


def verdict(pair: dict) -> Verdict:
    """``significant`` when the exact test's p (Holm-adjusted within its family when it is given) is below 0.05
    and the interval of ``bounds`` (seeds and test images when recorded) excludes zero; otherwise ``noise``. The
    exact test holds the trained heads fixed; the interval lets the seeds vary. The seed-level t-test (``seed_p``)
    is reported beside them, not part of the rule: with two or three seeds it has almost no power."""
    low, high = bounds(pair)
    excludes_zero = low > 0 or high < 0
    p = pair.get("p_adjusted", pair["p_value"])
    return Verdict.SIGNIFICANT if p < ALPHA and excludes_zero else Verdict.NOISE


INTERVALS = ("ci", "seed_ci", "ci2", "ci2_joint")


def pair(d: ReportData, a: str, b: str, which: str = "head") -> dict | None:
    """The row of ``pairs.csv`` (or ``fine_tune_pairs.csv``) for (a, b), oriented so that the difference is a − b."""
    table = d.paired(which)
    if table.empty or "a" not in table.columns:
        return None
    for row in table.to_dict("records"):
        if {row["a"], row["b"]} == {a, b}:
            if row["a"] != a:
                flipped = {f"{k}_low": -row[f"{k}_high"] for k in INTERVALS if f"{k}_high" in row}
                flipped.update({f"{k}_high": -row[f"{k}_low"] for k in INTERVALS if f"{k}_low" in row})
                row = {**row, **flipped, "a": a, "b": b, "diff_accuracy": -row["diff_accuracy"],
                       "only_a_mean": row.get("only_b_mean"), "only_b_mean": row.get("only_a_mean")}
            return row
    return None


def focus_pairs(d: ReportData, which: str = "head") -> list[dict]:
    """Every "focus − rival" comparison, with ``p_adjusted``: its p adjusted by Holm's method over this family, as
    the study's aggregate step saved it (``p_holm``); a table written before it was saved gives the raw p, and the
    report never adjusts it itself."""
    rows = [p for p in (pair(d, d.focus, r, which) for r in d.rivals) if p is not None]
    for row in rows:
        holm = row.get("p_holm")
        row["p_adjusted"] = float(holm) if holm is not None and not math.isnan(float(holm)) else row["p_value"]
    return rows


def recorded_focus_rows(d: ReportData, table: str = "pairs.csv", metric: str | None = None) -> list[dict]:
    """The focus's comparisons as the study saved them in ``table`` (family ``focus``, oriented focus − rival),
    in the rivals' order; empty when the table or the comparison is missing."""
    frame = d.table(table)
    if frame.empty or not d.compared or "family" not in frame.columns:
        return []
    rows = frame[(frame["family"] == "focus") & (frame["a"] == d.focus)]
    if metric is not None:
        rows = rows[rows["metric"] == metric]
    by_rival = {r["b"]: r for r in rows.to_dict("records")}
    return [by_rival[r] for r in d.rivals if r in by_rival]


def two_stage_power(rows: list[dict]) -> bool:
    """The minimum detectable difference of the recorded focus rows lets the seeds vary too (several seeds, every
    one recorded)."""
    return bool(rows) and int(rows[0]["n_seeds"]) > 1 and all(not math.isnan(float(r["mdd"])) for r in rows)


class SeedWeight(enum.Enum):
    """How much the seeds weigh against the test images in the focus's differences: the mean ratio of the width of
    the interval that lets only the seeds vary to the one that lets only the test images vary; ``same`` from 2/3 to
    3/2, ``more`` above, ``less`` from 1/3, ``little`` below."""
    SAME = "same"
    MORE = "more"
    LESS = "less"
    LITTLE = "little"

    @classmethod
    def of(cls, ratio: float) -> "SeedWeight":
        return (cls.SAME if 2 / 3 <= ratio <= 3 / 2 else cls.MORE if ratio > 3 / 2 else
                cls.LESS if ratio >= 1 / 3 else cls.LITTLE)


def seed_weight(rows: list[dict]) -> SeedWeight | None:
    """``SeedWeight`` of the recorded focus rows; None with one seed or without the seeds' interval."""
    if not rows or int(rows[0]["n_seeds"]) < 2 or any(math.isnan(float(r.get("seed_ci_low", math.nan)))
                                                       for r in rows):
        return None

    def width(r: dict, kind: str) -> float:
        return float(r[f"{kind}_high"] - r[f"{kind}_low"])

    return SeedWeight.of(sum(width(r, "seed_ci") / max(width(r, "ci"), 1e-12) for r in rows) / len(rows))


def timing_samples(d: ReportData) -> dict:
    """Seconds per epoch of each optimizer's chosen head timed alone (``timing.csv``), per repeat."""
    if d.timing.empty:
        return {}
    return {name: group["seconds_per_epoch"].to_numpy() for name, group in d.timing.groupby("optimizer", sort=False)
            if name in d.optimizers}


def separates(head_spread: float, tuned_spread: float, any_significant: bool) -> str:
    """Does fine-tuning tell the optimizers apart more than the head alone? ``yes`` when a paired test
    is significant after fine-tuning; ``wider`` when the spread of their accuracies at least doubles
    without a significant test; ``no`` otherwise."""
    if any_significant:
        return "yes"
    return "wider" if tuned_spread >= 2 * max(head_spread, 1e-9) else "no"


def spreads(d: ReportData) -> tuple[float, float]:
    """The spread (best minus worst mean test accuracy) of the heads alone and after fine-tuning, on the same
    seeds: with fine-tuning, the heads' spread is that of the seeds that were fine-tuned (``before_mean``)."""
    if not d.fine_tune.empty and "before_mean" in d.fine_tune.columns:
        head = float(d.fine_tune["before_mean"].max() - d.fine_tune["before_mean"].min())
    else:
        head = float(d.summary["test_accuracy_mean"].max() - d.summary["test_accuracy_mean"].min()) \
            if not d.summary.empty else 0.0
    tuned = float(d.fine_tune["after_mean"].max() - d.fine_tune["after_mean"].min()) if not d.fine_tune.empty else 0.0
    return head, tuned


def fine_tune_significant(d: ReportData) -> bool:
    return any(verdict(p) is Verdict.SIGNIFICANT for p in (focus_pairs(d, "fine_tune") if d.compared else []))
# Beyond this many classes, full confusion matrices and per-class tables no longer fit a page: the report shows the
# best and worst classes and the most frequent confusions instead.
MANY_CLASSES = 20


class Images(enum.Enum):
    NONE = "none"              # no results yet
    SYNTHETIC = "synthetic"    # coloured shapes (--smoke)
    PHOTOS = "photos"          # Stanford Dogs photos as found
    CROPPED = "cropped"        # the photos cropped to the dog's box


class Weights(enum.Enum):
    RANDOM = "random"
    PRETRAINED = "pretrained"


class Decoding(enum.Enum):
    """How much decoding the images slows the feature pass, from ``lionpoc bench``: the pipeline's throughput as a
    fraction of the bare forward pass, ``negligible`` from 90 %, ``some`` from 70 %, else ``strong``."""
    NEGLIGIBLE = "negligible"
    SOME = "some"
    STRONG = "strong"

    @classmethod
    def of(cls, fraction: float) -> "Decoding":
        return cls.NEGLIGIBLE if fraction >= 0.9 else cls.SOME if fraction >= 0.7 else cls.STRONG


OVERFIT = 0.05        # training accuracy this far above validation at the kept epoch: the head overfits


def overfits(gap: float) -> bool:
    """The head overfits when its training accuracy exceeds validation by more than 5 points at the kept
    epoch (with dropout on, training accuracy is a pessimistic measure: a larger gap is real)."""
    return gap > OVERFIT


class Overfit(enum.Enum):
    """Which heads overfit (``overfits``) among those whose curves were recorded."""
    ALL = "all"
    ONE = "one"      # one head, not all
    SOME = "some"    # several heads, not all
    NONE = "none"

    @classmethod
    def of(cls, gaps: dict) -> "Overfit | None":
        over = [n for n, g in gaps.items() if overfits(g)]
        if not gaps:
            return None
        return (cls.ALL if len(over) == len(gaps) else cls.ONE if len(over) == 1 else cls.SOME if over
                else cls.NONE)


def shares_cores(d: ReportData) -> bool:
    """The study ran several notebooks at once on a machine whose cores it recorded (``study.json``)."""
    s = d.study or {}
    return int(s.get("jobs") or 1) >= 2 and bool(int((s.get("machine") or {}).get("cores") or 0))


def epoch_seconds(d: ReportData, name: str) -> tuple[float, float] | None:
    """``name``'s mean epoch during the study and the median of its epochs timed alone (None if either is missing)."""
    samples = timing_samples(d)
    if d.summary.empty or name not in samples or name not in set(d.summary["optimizer"]):
        return None
    return float(d.row(name)["seconds_per_epoch"]), float(np.median(samples[name]))


class EpochGap(enum.Enum):
    """Why the focus's epoch during the study differs from its epoch timed alone: ``grid`` when the study's is not
    slower (the grid trained in one block shares each step's fixed costs), else ``shared`` when notebooks shared the
    cores, else ``measure`` (the conditions of the measure)."""
    GRID = "grid"
    SHARED = "shared"
    MEASURE = "measure"

    @classmethod
    def of(cls, d: ReportData) -> "EpochGap | None":
        seconds = epoch_seconds(d, d.focus)
        if seconds is None:
            return None
        during, alone = seconds
        return cls.GRID if during <= alone else cls.SHARED if shares_cores(d) else cls.MEASURE


def beyond_2023(d: ReportData) -> bool:
    """Every optimizer's mean test accuracy here is above the best of 2023's: the report says why it may be."""
    old = [float(o["accuracy"]) for o in (d.old.get("optimizers") or {}).values()]
    return bool(old) and not d.summary.empty and float(d.summary["test_accuracy_mean"].min()) > max(old)


def collapsed(accuracy: float, classes: int = 15) -> bool:
    """Fine-tuning destroyed the head: accuracy at most 1.5 x chance (1/15 for the 15 breeds)."""
    return accuracy <= 1.5 / classes


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
    fine_tune_subset: bool  # fine-tuning ran on fewer seeds than the heads (--fine-tune-seeds)
    sensitivity: bool
    timed: bool             # each chosen head timed alone (timing.csv)
    recorded: bool          # study.json present
    benchmark: bool
    baseline: bool          # the untrained ImageNet classifier could be scored
    cluster: bool
    tuning_recorded: bool   # the runs recorded their grid extensions
    grids_extended: bool    # every grid was extended at its edges (not --no-extend)
    features_cached: bool   # the one pass over the images ran in an earlier study
    trained: bool           # this study trained something (not every run kept from an earlier one)
    smoke: bool             # lionpoc study --smoke
    decoding: Decoding | None  # how much decoding the images slows the feature pass (lionpoc bench)
    batch_trend: str | None    # the focus's gap against the batch size: flat, grows, shrinks, varies, untested
                               # (one seed), paired by seed (sensitivity.trend)
    fine_tune_separates: str | None  # yes, wider, no (separates); None without a comparison to make
    speed: bool             # the focus's epoch timed alone is compared with its rivals'
    cluster_features: bool  # the cluster also ran the feature pass
    cluster_grouped: bool   # the cluster ran an optimizer's seeds in fewer notebook executions than seeds
    split_2023: str | None  # this test split's size against 2023's: same_total, other (None without a split)
    differs_2023: bool      # another backbone, random weights, synthetic or cropped images than 2023's
    # The data set (``d.dataset``): the 15 Stanford Dogs breeds (their photos or the smoke shapes in their folders),
    # or any other folder of classes.
    stanford_dogs: bool = True
    breeds: bool = True           # the classes are dog breeds: the report says "races", else "classes"
    imagenet_classes: bool = True  # every class is an ImageNet class (the pretrained base has seen them)
    classes: int = 15
    described: bool = False       # the data folder's dataset.yaml gave a paragraph for the report
    given_split: bool = False     # the data set gives its train/ and test/ folders, used as they are
    given_validation: bool = False  # ... and its val/ folder too (else the validation is drawn from train/)
    imbalanced: bool = False      # largest class / smallest class at least records.IMBALANCE_RATIO
    balance_equal: bool = False   # every class has as many images
    balance_comparable: bool = False  # the classes differ in size, less than records.IMBALANCE_RATIO
    left_out: int = 0             # files found in two classes or more, left out
    referenced: bool = False      # the data folder's dataset.yaml gave a reference
    thumbnails: bool = False      # the study drew a few images of each class (up to 20 classes)
    # The focus's comparisons as saved (pairs.csv, calibration.csv): what the Robustesse section can say.
    paired: bool = False          # pairs.csv holds the focus's comparisons
    seed_intervals: bool = False  # several seeds, and the interval that lets only the seeds vary
    two_stage_power: bool = False  # the minimum detectable difference lets the seeds vary too
    seed_weight: SeedWeight | None = None  # how much the seeds weigh against the test images (seed_weight)
    calibration: bool = False     # the test loss and calibration error were saved
    calibration_seeds: bool = False  # ... over several seeds
    overfit: Overfit | None = None  # which heads overfit at the kept epoch (None without recorded curves)
    trainings: int = 0            # the chosen heads' trainings: one per optimizer and seed
    capped: int = 0               # ... of them that ran up to the epoch cap, early stopping never triggered
    capped_shown: bool = False    # one of those is a first seed, whose curves the report shows
    beyond_2023: bool = False     # every accuracy here above 2023's best (beyond_2023)
    epoch_gap: EpochGap | None = None  # why the focus's epoch in the study differs from its epoch timed alone
    shared_cores: bool = False    # several notebooks shared the machine's cores (shares_cores)
    # What the first page, the warnings and the conclusion say, beyond the sections above.
    several_optimizers: bool = False  # more than one optimizer has results
    damaged: bool = False         # some runs have an unreadable metrics.json (ignored)
    missing: bool = False         # some optimizers the study planned have no results
    skipped: int = 0              # images that could not be read, left out
    schedule_effect: str | None = None  # the focus's mean lead with the cosine: kept, lost, gained, behind (schedule_effect)
    schedule_shift: str | None = None   # the cosine's effect on that lead, paired by seed: significant, noise, untested
    lead_constant: str | None = None    # the focus's mean lead at a constant rate: ahead, behind, level, untested
    # What the optimizers' parameter files say (``ReportData.fact``), for the optimizers that ran.
    implementations: tuple = ()   # how many come from Keras, how many are this project's: (keras, ours)
    decays: tuple = ()            # how many regularise by an L2 penalty, how many by a decoupled decay: (l2, decoupled)
    fine_tune_memory: str | None = None  # the focus's state for the fine-tuned weights against its rivals' mean:
                                         # less, more, same (fine_tune_state); None without a comparison
    fine_tune_seeds: int = 0      # seeds fine-tuned (the most of any optimizer)
    past_schedule: bool = False   # some cosine trainings of the sensitivity study outlived their schedule
    fine_tune_edge: bool = False  # some fine-tuned trainings chose the smallest rate of their (unextended) grid
    seed_carries: bool = False    # one significant comparison (three seeds or more): page 1 names its weightiest seed
    seed_inflates: bool = False   # ... and that seed makes the gap larger than the other seeds do (the conclusion says so)
    seed_notebooks: bool = False  # a cluster ran the seeds apart and their executed notebooks are there to link
    fine_tune_val: str | None = None  # validation accuracy after fine-tuning against before: fell (for some
                                      # optimizer), held; None when not recorded

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
        flags.update({f"decoding_{kind.value}": self.decoding is kind for kind in Decoding})
        flags.update({f"batch_{kind}": self.batch_trend == kind for kind in ("flat", "grows", "shrinks", "varies",
                                                                                  "untested")})
        flags.update({f"separates_{kind}": self.fine_tune_separates == kind for kind in ("yes", "wider", "no")})
        flags["fine_tune_spread"] = self.fine_tune_separates is not None
        flags.update({"cluster_features": self.cluster_features, "cluster_grouped": self.cluster_grouped})
        flags["differs_2023"] = self.differs_2023
        flags.update({f"seed_weight_{kind.value}": self.seed_weight is kind for kind in SeedWeight})
        flags.update({f"overfit_{kind.value}": self.overfit is kind for kind in Overfit})
        flags["curves"] = self.overfit is not None
        flags.update({"capped_none": self.trainings > 0 and not self.capped, "capped_any": self.capped > 0,
                      "capped_some": 0 < self.capped < self.trainings, "capped_all": 0 < self.capped == self.trainings,
                      "capped_one": self.capped == 1 < self.trainings})
        flags.update({"left_out_any": self.left_out > 0, "left_out_one": self.left_out == 1})
        flags.update({f"epoch_gap_{kind.value}": self.epoch_gap is kind for kind in EpochGap})
        flags["epoch_gap"] = self.epoch_gap is not None
        flags["batch_trend"] = self.batch_trend is not None
        flags.update({"skipped_any": self.skipped > 0, "skipped_one": self.skipped == 1})
        keras_, ours = self.implementations or (0, 0)
        flags.update({"keras_any": keras_ > 0, "keras_one": keras_ == 1, "ours_any": ours > 0, "ours_one": ours == 1})
        # two to five seeds: a two-stage bootstrap draws from few seed combinations, a t-test has few degrees of freedom
        flags["fine_tune_few_seeds"] = 2 <= self.fine_tune_seeds <= 5
        flags.update({"fine_tune_val": self.fine_tune_val is not None, "fine_tune_val_fell": self.fine_tune_val == "fell"})
        flags["fine_tune_memory"] = self.fine_tune_memory is not None
        flags.update({f"fine_tune_memory_{kind}": self.fine_tune_memory == kind for kind in ("less", "more", "same")})
        l2, decoupled = self.decays or (0, 0)
        flags.update({"decay_l2_only": l2 > 0 and not decoupled, "decay_decoupled_only": decoupled > 0 and not l2,
                      "decay_both": l2 > 0 and decoupled > 0, "decay_any": l2 > 0 or decoupled > 0})
        flags.update({f"schedule_{kind}": self.schedule_effect == kind for kind in ("kept", "lost", "gained", "behind")})
        flags.update({f"schedule_shift_{kind}": self.schedule_shift == kind for kind in ("significant", "noise", "untested")})
        flags.update({f"lead_{kind}": self.lead_constant == kind for kind in ("ahead", "behind", "level", "untested")})
        flags.update({f"split_2023_{kind}": self.split_2023 == kind for kind in ("same_total", "other")})
        flags.update({"empty": self.empty, "synthetic": self.synthetic, "pretrained": self.pretrained,
                      "random_photos": self.random_photos, "checks_chain": self.synthetic or self.random_photos,
                      "cropped": self.images is Images.CROPPED, "several_rivals": self.rivals > 1,
                      "fine_tune_worked": self.fine_tune and not self.fine_tune_collapsed,
                      "imagenet_overlap": self.pretrained and self.imagenet_classes, "one_rival": self.rivals == 1,
                      "imagenet_foreign": self.pretrained and not self.imagenet_classes,
                      "other_data": not self.stanford_dogs, "many_classes": self.classes > MANY_CLASSES,
                      "few_classes": self.classes <= MANY_CLASSES,
                      "pretrained_weights": self.weights is Weights.PRETRAINED,
                      "fixed_grids": self.tuning_recorded and not self.grids_extended})
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
    study = d.study or {}
    rows = sensitivity.tuning_rows(d)
    carried = influential_seeds(d) if not d.empty else []  # the significant gaps' weightiest seeds
    return Regime(images=images, weights=Weights.PRETRAINED if d.pretrained else Weights.RANDOM,
                  xception=d.xception, compared=d.compared, rivals=len(d.rivals) if d.compared else 0,
                  fine_tune=tuned,
                  fine_tune_collapsed=tuned and all(collapsed(v, d.dataset.n_classes) for v in d.fine_tune["after_mean"]),
                  fine_tune_subset=tuned and int(d.fine_tune["n_seeds"].max()) < int(d.runs.groupby("optimizer").size().max()),
                  sensitivity=not d.empty and sensitivity.exists(d), timed=not d.timing.empty,
                  recorded=bool(d.study), benchmark=d.benchmark is not None,
                  baseline=bool((d.baseline or {}).get("available")), cluster=bool((d.study or {}).get("cluster")),
                  tuning_recorded=not rows.empty, grids_extended=not rows.empty and bool(rows["extend"].all()),
                  features_cached=bool(study.get("features_from_cache")), trained=bool(study.get("executions")),
                  smoke=bool(study.get("smoke")),
                  decoding=Decoding.of(d.benchmark["extraction"]["pipeline_fraction_of_bare"]) if d.benchmark else None,
                  batch_trend=sensitivity.batch_trend(d) if not d.empty else None,
                  fine_tune_separates=_separates(d), speed=_speed(d),
                  cluster_features="features" in ((study.get("cluster") or {}).get("phases_seconds") or {}),
                  cluster_grouped=0 < len(study.get("executions") or [])
                  < sum(len(e.get("seeds", [])) for e in study.get("executions") or []),
                  split_2023=_split_2023(d),
                  differs_2023=not d.empty and (not d.xception or not d.pretrained or d.synthetic or d.cropped_photos),
                  overfit=Overfit.of(d.kept_epoch_gaps()) if not d.empty else None,
                  trainings=len(d.runs), capped=len(d.capped()), capped_shown=bool(d.capped_shown()),
                  beyond_2023=not d.empty and beyond_2023(d),
                  epoch_gap=EpochGap.of(d) if not d.empty else None, shared_cores=shares_cores(d),
                  several_optimizers=len(d.optimizers) > 1, damaged=bool(d.damaged),
                  missing=bool(d.missing) and not d.empty,
                  skipped=len(d.first().get("skipped_files") or []) if not d.empty else 0,
                  schedule_effect=sensitivity.schedule_effect(d) if not d.empty else None,
                  schedule_shift=sensitivity.schedule_shift(d) if not d.empty else None,
                  lead_constant=sensitivity.lead_state(d) if not d.empty else None,
                  implementations=tuple(sum(d.fact(n, "implementation") == k for n in d.optimizers)
                                        for k in ("keras", "ours")),
                  decays=tuple(sum(d.fact(n, "decay") == k for n in d.optimizers) for k in ("l2", "decoupled")),
                  fine_tune_memory=_fine_tune_memory(d),
                  fine_tune_seeds=int(d.fine_tune["n_seeds"].max()) if tuned else 0,
                  fine_tune_val=_fine_tune_val(d),
                  past_schedule=sensitivity.past_schedule_counts(d)[0] > 0 if not d.empty else False,
                  fine_tune_edge=_fine_tune_edge(d),
                  seed_carries=len(carried) == 1, seed_inflates=[i["inflates"] for i in carried] == [True],
                  seed_notebooks=bool(seed_notebooks(d)) if not d.empty else False,
                  **data_set(d), **paired(d))


def seed_notebooks(d: ReportData) -> list[tuple[str, int]]:
    """(optimizer, seed) of each run whose executed notebook (``training.html``) sits in its folder, when the study
    ran on a cluster (each seed's folder then holds the notebook that ran it); empty otherwise."""
    if not (d.study or {}).get("cluster"):
        return []
    return [(run.optimizer, int(run.seed)) for run in d.runs.itertuples()
            if (Path(run.path) / "training.html").is_file()]


def influential_seeds(d: ReportData) -> list[dict]:
    """For each significant comparison of the focus with three seeds or more: the seed that weighs most on the mean
    difference (the farthest from it), the difference in that seed, the mean without it and the per-seed median;
    ``pair`` is the comparison's row (``focus_pairs``). A comparison whose mean no seed moves by a tenth of a point
    (every seed alike) has none."""
    by_seed = d.table("pairs_by_seed.csv")
    if by_seed.empty:
        return []
    out = []
    for r in focus_pairs(d):
        rows = by_seed[(by_seed["a"] == r["a"]) & (by_seed["b"] == r["b"])]
        if verdict(r) != Verdict.SIGNIFICANT or len(rows) < 3:
            continue
        diffs = rows.set_index("seed")["diff_accuracy"].astype(float)
        seed = (diffs - diffs.mean()).abs().idxmax()
        without = float(diffs.drop(seed).mean())
        if round(100 * without, 1) == round(100 * diffs.mean(), 1):
            continue  # no seed moves the mean as the report writes it (one decimal of a point)
        out.append({"pair": r, "seed": seed, "in_seed": float(diffs[seed]), "without": without,
                    "median": float(diffs.median()), "inflates": abs(without) < abs(float(diffs.mean()))})
    return out


def paired(d: ReportData) -> dict:
    """The regime's fields that come from the saved comparisons (``pairs.csv``, ``calibration.csv``)."""
    rows = recorded_focus_rows(d)
    weight = seed_weight(rows)
    calibration = d.table("calibration.csv")
    calibrated = not calibration.empty and not calibration["nll_mean"].isna().all()
    return {"paired": bool(rows), "seed_intervals": weight is not None, "two_stage_power": two_stage_power(rows),
            "seed_weight": weight, "calibration": calibrated,
            "calibration_seeds": calibrated and int(calibration["n_seeds"].iloc[0]) > 1}


def fine_tune_state(d: ReportData) -> tuple[float, float, list[str]] | None:
    """The bytes of the focus's optimizer state for the fine-tuned weights, its rivals' mean and those rivals; None
    without the focus and a rival fine-tuned."""
    if d.fine_tune.empty or not d.compared:
        return None
    f = d.fine_tune.set_index("optimizer")["state_bytes"]
    if d.focus not in f.index or len(f) < 2:
        return None
    others = f.drop(index=d.focus)
    return float(f[d.focus]), float(others.mean()), list(others.index)


def _fine_tune_memory(d: ReportData) -> str | None:
    state = fine_tune_state(d)
    if state is None:
        return None
    mine, theirs, _ = state
    return "less" if mine < theirs else "more" if mine > theirs else "same"


def _split_2023(d: ReportData) -> str | None:
    """How this study's test split compares with 2023's, whose total alone is known: the same total, or another."""
    if d.split.empty:
        return None
    ours = int((d.split["split"] == "test").sum())
    return "same_total" if ours == int(d.old["n_test"]) else "other"


def fine_tune_edges(d: ReportData) -> tuple[int, int]:
    """(fine-tuned trainings whose chosen rate is the smallest their grid tried, fine-tuned trainings that recorded
    their grid), from each run's ``fine_tune_tuning.csv`` and ``ft_learning_rate``."""
    low = total = 0
    if "ft_learning_rate" not in d.runs or "path" not in d.runs:
        return 0, 0
    for run in d.runs[d.runs["ft_learning_rate"].notna()].itertuples():
        path = Path(run.path) / "fine_tune_tuning.csv"
        if path.is_file():
            tried = pd.read_csv(path)["learning_rate"].astype(float)
            total += 1
            low += int(len(tried) > 1 and abs(float(run.ft_learning_rate) - tried.min()) <= 1e-9 * tried.min())
    return low, total


def _fine_tune_edge(d: ReportData) -> bool:
    return not d.empty and fine_tune_edges(d)[0] > 0


def _fine_tune_val(d: ReportData) -> str | None:
    t = d.fine_tune
    if t.empty or not {"val_before", "val_after"} <= set(t.columns) or t[["val_before", "val_after"]].isna().any().any():
        return None
    return "fell" if (t["val_after"] < t["val_before"]).any() else "held"


def _speed(d: ReportData) -> bool:
    samples = timing_samples(d)
    return d.compared and d.focus in samples and any(r in samples for r in d.rivals)


def _separates(d: ReportData) -> str | None:
    """Does fine-tuning tell the optimizers apart more than the head alone (``separates``)?"""
    if d.fine_tune.empty or len(d.fine_tune) < 2 or all(collapsed(v, d.dataset.n_classes) for v in d.fine_tune["after_mean"]):
        return None
    return separates(*spreads(d), fine_tune_significant(d))


def data_set(d: ReportData) -> dict:
    """The regime's fields that come from the data set."""
    from lionpoc.data import datasets

    dataset, record = d.dataset, d.data_record
    balance = record.get("imbalance") or {}
    return {"stanford_dogs": d.stanford_dogs, "breeds": dataset.words == datasets.BREED_WORDS,
            "imagenet_classes": dataset.imagenet_index is not None, "classes": dataset.n_classes,
            "described": bool(dataset.description), "given_split": str(record.get("split", "")).startswith("given"),
            "given_validation": record.get("split") == "given",
            "imbalanced": bool(balance.get("imbalanced")),
            "balance_equal": bool(balance) and balance["smallest"]["images"] == balance["largest"]["images"],
            "balance_comparable": bool(balance) and not balance.get("imbalanced")
            and balance["smallest"]["images"] != balance["largest"]["images"],
            "left_out": int((record.get("same_bytes_across_classes") or {}).get("files_left_out", 0)),
            "referenced": bool(dataset.reference),
            "thumbnails": (d.results_dir / "thumbnails.png").is_file()}
