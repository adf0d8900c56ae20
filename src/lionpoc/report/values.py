"""The values ``report/index.qmd`` writes inline: names and numbers, formatted the French way, never a sentence.

The document holds the sentences; each ``{python} v.<name>`` puts one value in them (``v = Values(d)`` in the
first cell). Every value is a ``Text``, so Quarto shows it as it is, and none fails on a results folder that lacks
what it describes (it is then empty or ``n.d.``): a block that Quarto hides still runs its inline code.
"""
from __future__ import annotations

import math
from pathlib import Path

from lionpoc.report import findings
from lionpoc.report import french
from lionpoc.report import markup
from lionpoc.report.data import ReportData
from lionpoc.report.markup import Text, escape
from lionpoc.study import stats

ALPHA, LEVEL = findings.ALPHA, findings.LEVEL


class Values:
    """``v.backbone``, ``v.focus``, ``v.alpha``...: one value each, read from ``d`` when asked."""

    def __init__(self, d: ReportData):
        self.d = d

    # ------------------------------------------------------------------ names
    @property
    def backbone(self) -> Text:
        return Text(self.d.backbone_label)

    @property
    def focus(self) -> Text:
        return Text(self.d.label(self.d.focus) if self.d.focus else "")

    @property
    def de_focus(self) -> Text:
        """``de Lion``, ``d'Adam``."""
        return Text(french.de(self.focus) if self.focus else "")

    @property
    def rivals(self) -> Text:
        return Text(french.enumeration([self.d.label(r) for r in self.d.rivals]))

    @property
    def question_who(self) -> Text:
        """``Lion fait-il mieux qu'Adam et AdamW``, or ``Que fait Adam`` without a comparison: the question's start
        (its end, by regime, is ``index.qmd``'s)."""
        d = self.d
        if d.compared:
            return Text(f"{self.focus} fait-il mieux {french.que(self.rivals)}")
        return Text(f"Que fait {french.enumeration([d.label(n) for n in d.optimizers or d.planned])}")

    @property
    def n_rivals(self) -> Text:
        """``deux``: how many comparisons answer the question."""
        return Text(french.in_words(len(self.d.rivals)))

    @property
    def de_backbone(self) -> Text:
        """``de MobileNetV2``, ``de Xception``, ``d'EfficientNet``: the backbone after "de", elided."""
        return Text(french.de(self.d.backbone_label))

    @property
    def fine_tune_part(self) -> Text:
        """``la fin de MobileNetV2 (bloc 16 et dernière convolution 1 × 1)``."""
        return Text(self.d.fine_tune_part)

    @property
    def fine_tuned_seeds(self) -> Text:
        """``les trois premières des dix graines``, ``la première des deux graines``: which seeds were fine-tuned."""
        if self.d.fine_tune.empty or self.d.empty:
            return Text("")
        tuned, seeds = int(self.d.fine_tune["n_seeds"].max()), int(self.d.runs.groupby("optimizer").size().max())
        first = "la première" if tuned == 1 else f"les {french.in_words(tuned)} premières"
        return Text(f"{first} des {french.in_words(seeds)} graines")

    # ------------------------------------------------------------------ levels
    @property
    def alpha(self) -> Text:
        return Text(french.percent(ALPHA, 0))

    @property
    def alpha_number(self) -> Text:
        return Text(french.number(ALPHA, 2))

    @property
    def level(self) -> Text:
        return Text(french.percent(LEVEL, 0))

    @property
    def chance(self) -> Text:
        return Text(french.percent(1 / self.d.dataset.n_classes))

    @property
    def overfit(self) -> Text:
        """``5,0 points``: the gap between training and validation accuracy beyond which a head overfits."""
        return Text(f"{french.number(100 * findings.OVERFIT, 1)}{french.NNBSP}{french.point_word(findings.OVERFIT)}")

    # ------------------------------------------------------------------ the protocol
    def setting(self, key: str) -> Text:
        """A protocol parameter of the first run (``image_size``, ``batch_size``, ``dropout``...)."""
        if self.d.empty:
            return Text("n.d.")
        value = self.d.first()["params"][key]
        if isinstance(value, float):
            return Text(french.short(value))
        return Text(str(value))

    @property
    def trainings(self) -> Text:
        """``30``: the chosen heads' trainings, one per optimizer and seed."""
        return Text(french.integer(len(self.d.runs)))

    @property
    def early_stops(self) -> Text:
        """``29``, ``un``: how many of them early stopping ended before the epoch cap (``ReportData.capped``)."""
        return Text(french.in_words(len(self.d.runs) - len(self.d.capped())))

    @property
    def capped_count(self) -> Text:
        """``un``, ``quatre``: how many of them ran up to the epoch cap."""
        return Text(french.in_words(len(self.d.capped())))

    @property
    def classes(self) -> Text:
        return Text(french.integer(self.d.dataset.n_classes))

    # ------------------------------------------------------------------ the parts that did not run
    @property
    def sensitivity_variants(self) -> Text:
        """``huit``: the trainings of the sensitivity study per chosen head (batch sizes × schedules)."""
        from lionpoc.study import sensitivity

        return Text(french.in_words(len(sensitivity.BATCH_SIZES) * len(sensitivity.SCHEDULES)))

    @property
    def sensitivity_estimate(self) -> Text:
        """What the sensitivity study would train, estimated from this study's chosen heads' training times."""
        from lionpoc.study import sensitivity

        s = self.d.summary
        if s.empty:
            return Text("n.d.")
        seconds = float((s["train_seconds"] * s["n_seeds"]).sum())
        return Text(french.seconds(len(sensitivity.BATCH_SIZES) * len(sensitivity.SCHEDULES) * seconds))

    # ------------------------------------------------------------------ the data set
    @property
    def dataset(self) -> Text:
        """The data set's name (its description file's, else its folder's)."""
        return Text(self.d.dataset_name)

    @property
    def data_set(self) -> Text:
        """``jeu d'images « Arbres » (trois classes)``: a data set other than the 15 breeds, named."""
        d = self.d
        return Text(f"jeu d'images {french.quoted(d.dataset_name)} ({french.in_words(d.dataset.n_classes)} "
                    f"{d.dataset.words[1]})")

    @property
    def n_classes(self) -> Text:
        """``trois``, ``40``: how many classes (in words up to ten)."""
        n = self.d.dataset.n_classes
        return Text(french.in_words(n))

    @property
    def race(self) -> Text:
        """``race`` for breeds, ``classe`` otherwise (both feminine: the sentence around agrees either way)."""
        return Text(self.d.dataset.words[0])

    @property
    def races(self) -> Text:
        return Text(self.d.dataset.words[1])

    @property
    def class_list(self) -> Text:
        """The classes as the report names them, listed (the first 20, then how many more)."""
        names = self.d.class_names
        shown = [french.quoted(n) for n in names[:20]]
        more = f" et {french.integer(len(names) - 20)} autres" if len(names) > 20 else ""
        return Text(", ".join(shown) + more if more else french.enumeration(shown))

    @property
    def description(self) -> Text:
        return Text(escape(self.d.dataset.description or ""))

    @property
    def reference(self) -> Text:
        return Text(escape(self.d.dataset.reference or ""))

    @property
    def data_folder(self) -> Text:
        return Text(f"`{self.d.data_record.get('data_dir') or self.d.dataset.name}`")

    def _imbalance(self) -> dict:
        return self.d.data_record.get("imbalance") or {}

    def extreme(self, which: str, key: str = "display") -> Text:
        """The ``largest`` or ``smallest`` class: its name quoted (``display``) or its readable ``images``."""
        found = self._imbalance().get(which)
        if not found:
            return Text("n.d.")
        return Text(french.quoted(escape(found["display"])) if key == "display" else french.integer(found["images"]))

    @property
    def imbalance_ratio(self) -> Text:
        """``2,5``: the largest class's images over the smallest's."""
        ratio = self._imbalance().get("ratio")
        return Text(french.number(ratio, 1) if ratio is not None else "n.d.")

    @property
    def images(self) -> Text:
        """The readable images of the data set."""
        d = self.d
        return Text(french.integer(d.data_record.get("images") or (len(d.split) if not d.split.empty else 0)))

    @property
    def left_out(self) -> Text:
        """``3 fichiers présents``: the files found, byte for byte, in two classes or more (left out)."""
        left = (self.d.data_record.get("same_bytes_across_classes") or {}).get("files_left_out", 0)
        return Text(french.plural(left, "fichier présent", "fichiers présents"))

    @property
    def given_folders(self) -> Text:
        parts = self.d.data_record.get("given_folders") or {}
        return Text(french.enumeration([f"`{parts[p]}/`" for p in ("train", "val", "test") if p in parts]))

    @property
    def features(self) -> Text:
        """``ses 1 280 caractéristiques par image`` (or ``ses caractéristiques`` when the width is unknown)."""
        d = self.d
        return Text(f"ses {french.integer(d.feature_dim)} caractéristiques par image" if d.feature_dim
                    else "ses caractéristiques")

    @property
    def resamples(self) -> Text:
        return Text(french.integer(self._paired("n_resamples", "RESAMPLES")))

    def _paired(self, column: str, default: str) -> int:
        table = self.d.paired("head")
        if column in table.columns and len(table):
            return int(table[column].iloc[0])
        from lionpoc.study import aggregate

        return getattr(aggregate, default)

    # ------------------------------------------------------------------ results
    def _best(self) -> float:
        return float(self.d.summary["test_accuracy_mean"].max()) if not self.d.summary.empty else math.nan

    def _per_breed(self) -> int:
        d = self.d
        if d.split.empty:
            return 0
        return int(round(float(d.split[d.split["split"] == "test"].groupby("breed").size().median())))

    @property
    def per_breed_test(self) -> Text:
        """Test images of a breed (the median over the breeds)."""
        return Text(french.integer(self._per_breed()))

    @property
    def best(self) -> Text:
        """The best mean test accuracy, whole percent."""
        return Text(french.percent(self._best(), 0))

    @property
    def breed_count(self) -> Text:
        """``21 images sur 22 (95 %)``: the best mean accuracy as a whole count of one breed's test images, the
        count the Wilson interval of ``breed_wilson`` is computed from."""
        n, best = self._per_breed(), self._best()
        if not n or math.isnan(best):
            return Text("n.d.")
        k = round(best * n)
        return Text(f"{french.integer(k)} images sur {french.integer(n)} ({french.percent(k / n, 0)})")

    def breed_wilson(self, bound: int) -> Text:
        """A bound of the Wilson interval of the best accuracy measured on one breed's test images."""
        n, best = self._per_breed(), self._best()
        if not n or math.isnan(best):
            return Text("n.d.")
        return Text(french.percent(stats.wilson_ci(round(best * n), n)[bound], 0))

    # ------------------------------------------------------------------ the 2023 study
    def old(self, key: str) -> Text:
        """A figure of the 2023 study (``report/study_2023.yaml``), as written there."""
        return Text(str(self.d.old[key]))

    def old_first(self, key: str) -> Text:
        """A figure of 2023's first optimizer that ran its whole budget (Adam): ``minutes``, ``epochs``."""
        return Text(str(self._old_first()[key]))

    def _old_first(self) -> dict:
        old = self.d.old["optimizers"]
        full = [o for o in old.values() if not o.get("early_stopping_patience")]
        return (full or list(old.values()))[0]

    def old_group(self, group: str, key: str) -> Text:
        """The 2023 optimizers that ran their whole budget (``full``) or stopped early (``stopped``): their
        ``names``, ``epochs``, ``patience`` or ``minutes``, enumerated."""
        old = self.d.old["optimizers"]
        chosen = {n: o for n, o in old.items() if bool(o.get("early_stopping_patience")) == (group == "stopped")}
        if key == "names":
            return Text(french.enumeration([self.d.label(n) for n in chosen]))
        if key == "epochs":
            return Text(french.enumeration(sorted({str(o["epochs"]).replace("–", " ou ") for o in chosen.values()})))
        field = {"patience": "early_stopping_patience", "minutes": "minutes"}[key]
        return Text(french.enumeration([str(o[field]) for o in chosen.values()]))

    @property
    def old_test(self) -> Text:
        """2023's test images."""
        return Text(french.integer(int(self.d.old["n_test"])))

    @property
    def test_images(self) -> Text:
        d = self.d
        return Text(french.integer(int((d.split["split"] == "test").sum())) if not d.split.empty else "n.d.")

    @property
    def old_seconds_per_epoch(self) -> Text:
        first = self._old_first()
        return Text(french.number(first["minutes"] * 60 / int(first["epochs"]), 0))

    @property
    def old_cores(self) -> Text:
        return Text(french.plural(self.d.old["cores"], "cœur"))

    @property
    def old_baseline(self) -> Text:
        return Text(french.percent(self.d.old["baseline_accuracy"], 0))

    # ------------------------------------------------------------------ the study's own timings (study.json)
    def study(self, key: str) -> Text:
        """A figure of the study as ``study.json`` recorded it, formatted: ``cores``, ``cpu``, ``images``,
        ``image_size``, ``optimizers``, ``seeds``, ``grid_size``, ``features`` (the one pass), ``trainings``,
        ``ratio`` (trainings over the pass), ``total``, ``trained`` (what was trained), ``shared`` (cores)."""
        s = self.d.study
        if not s:
            return Text("n.d.")
        cached = s.get("features_from_cache")
        features = (s.get("cached_features_seconds") or s["features_extraction_seconds"]) if cached \
            else s["features_extraction_seconds"]
        m = s.get("machine") or {}
        values = {
            "cores": lambda: french.plural(m["cores"], "cœur"), "cpu": lambda: markup.escape(m["cpu"]),
            "images": lambda: french.integer(s["images"]), "image_size": lambda: str(s["image_size"]),
            "optimizers": lambda: french.plural(len(s["optimizers"]), "optimiseur"),
            "seeds": lambda: french.plural(s["seeds"], "graine"), "grid_size": lambda: str(s["grid_size"]),
            "features": lambda: french.seconds(features),
            "trainings": lambda: french.seconds(s["trainings_seconds"]),
            "ratio": lambda: french.number(s["trainings_seconds"] / features if features > 0 else math.nan, 2),
            "total": lambda: french.seconds(s["total_seconds"]),
            "trained": lambda: french.enumeration(
                ["le réglage des têtes"] + (["la sensibilité"] if (Path(self.d.results_dir) / "sensitivity.csv").is_file()
                                            else []) + (["l'ajustement fin"] if s.get("fine_tune") else [])),
        }
        return Text(values[key]())

    # ------------------------------------------------------------------ lionpoc bench (benchmark.json)
    def bench(self, key: str) -> Text:
        """A figure of ``lionpoc bench``: ``day``, ``cores``, ``image_size``, ``vectors``, ``cached_epoch``,
        ``grid_size``, ``naive_epoch``, ``images``, ``speedup``, ``images_per_second``, ``fraction``."""
        b = self.d.benchmark
        if not b:
            return Text("n.d.")
        cache, extraction = b["cache"], b["extraction"]
        values = {
            "day": lambda: "/".join(reversed(b["created_at"][:10].split("-"))),
            "cores": lambda: french.plural(b["machine"]["cores"], "cœur"),
            "image_size": lambda: str(cache["image_size"]), "vectors": lambda: french.integer(cache["train_vectors"]),
            "cached_epoch": lambda: french.seconds(cache["cached_epoch_seconds"]),
            "grid_size": lambda: str(cache["grid_size"]),
            "naive_epoch": lambda: french.seconds(cache["naive_epoch_seconds_per_image"] * cache["train_vectors"]),
            "images": lambda: str(cache["images"]), "speedup": lambda: french.number(cache["speedup"], 0),
            "images_per_second": lambda: french.number(extraction["pipeline_images_per_second"], 1),
            "fraction": lambda: french.percent(extraction["pipeline_fraction_of_bare"], 0),
        }
        return Text(values[key]())

    # ------------------------------------------------------------------ the Dask cluster (study.json's cluster)
    def cluster(self, key: str) -> Text:
        """A figure of the cluster the study ran on: ``workers``, ``threads``, ``gpus``, ``hosts``, ``tasks``,
        ``busy`` (the tasks' total time), ``wall``, ``speedup``, ``idle``, ``runs`` and ``executions``."""
        c = (self.d.study or {}).get("cluster")
        if not c:
            return Text("n.d.")
        wall = sum(c["phases_seconds"].values())
        executions = (self.d.study or {}).get("executions") or []
        values = {
            "workers": lambda: french.plural(c["workers"], "travailleur"),
            "threads": lambda: french.plural(c["threads"], "fil d'exécution", "fils d'exécution"),
            "gpus": lambda: f"{c['gpus']} GPU" if c["gpus"] else "sans GPU",
            "hosts": lambda: french.plural(len(c["hosts"]), "machine"),
            "tasks": lambda: french.plural(len(c["tasks"]), "tâche"),
            "busy": lambda: french.seconds(c["busy_seconds"]), "wall": lambda: french.seconds(wall),
            "speedup": lambda: french.number(c["busy_seconds"] / wall if wall > 0 else math.nan, 1),
            "idle": lambda: french.seconds(c["idle_seconds"]),
            "runs": lambda: french.plural(sum(len(e.get("seeds", [])) for e in executions), "graine"),
            "executions": lambda: french.plural(len(executions), "exécution"),
        }
        return Text(values[key]())

    # ------------------------------------------------------------------ the warnings, the abstract, the noise
    @property
    def damaged_runs(self) -> Text:
        """``Adam graine 2 (`results/adam/seed-2`)``: the runs whose ``metrics.json`` could not be read."""
        return Text(", ".join(f"{self.d.label(x['optimizer'])} graine {x['seed']} ({markup.code(x['path'])})"
                              for x in self.d.damaged))

    @property
    def missing(self) -> Text:
        """The optimizers the study planned that have no results, named."""
        return Text(", ".join(self.d.label(m) for m in self.d.missing))

    @property
    def missing_command(self) -> Text:
        """The command that makes the missing results, as inline code."""
        from lionpoc.report import render

        missing = self.d.missing
        return Text(markup.code(render.resume_command(self.d.results_dir, missing)) if missing else "")

    @property
    def scores(self) -> Text:
        """``Adam 84,0 % [80,1 % ; 87,6 %] ; Lion 84,7 % […]``: each optimizer's mean test accuracy and interval."""
        d = self.d
        if d.summary.empty:
            return Text("n.d.")
        from lionpoc.report.tables import interval

        s = d.summary.set_index("optimizer")
        return Text(" ; ".join(f"{d.label(o)} {french.percent(s.loc[o, 'test_accuracy_mean'])} "
                               f"{interval(s.loc[o, 'test_accuracy_ci_low'], s.loc[o, 'test_accuracy_ci_high'])}"
                               for o in d.optimizers if o in s.index))

    @property
    def skipped(self) -> Text:
        """``2 fichiers illisibles``: the images the study could not read, counted."""
        files = self.d.first()["skipped_files"] if not self.d.empty else []
        return Text(french.plural(len(files), "fichier illisible", "fichiers illisibles"))

    @property
    def skipped_files(self) -> Text:
        """The first five unreadable files, as inline code (``…`` when there are more)."""
        files = self.d.first()["skipped_files"] if not self.d.empty else []
        return Text(", ".join(markup.code(s["file"]) for s in files[:5]) + ("…" if len(files) > 5 else ""))

    def _n_test(self) -> int:
        return int(self.d.runs["n_test"].iloc[0]) if not self.d.empty else 0

    @property
    def n_test(self) -> Text:
        """The test images each run is scored on."""
        return Text(french.integer(self._n_test()) if self._n_test() else "n.d.")

    @property
    def image_points(self) -> Text:
        """``0,31``: what one test image weighs in the accuracy, in points."""
        return Text(french.number(100 / self._n_test(), 2) if self._n_test() else "n.d.")

    @property
    def best_precise(self) -> Text:
        """The best mean test accuracy, to a tenth of a point."""
        return Text(french.percent(self._best()) if not math.isnan(self._best()) else "n.d.")

    @property
    def best_count(self) -> Text:
        """``314 images sur 326 (96,3 %)``: the best mean accuracy as a whole count of the test images."""
        n, best = self._n_test(), self._best()
        if not n or math.isnan(best):
            return Text("n.d.")
        k = round(best * n)
        return Text(f"{french.integer(k)} images sur {french.integer(n)} ({french.percent(k / n)})")

    @property
    def best_wilson(self) -> Text:
        """``[80,5 % ; 88,1 %]``: the Wilson interval of the best accuracy, were it measured on one run."""
        n, best = self._n_test(), self._best()
        if not n or math.isnan(best):
            return Text("n.d.")
        from lionpoc.report.tables import interval

        return Text(interval(*stats.wilson_ci(round(best * n), n)))

    # ------------------------------------------------------------------ what the parameter files say
    def implemented(self, kind: str) -> Text:
        """``Adam et AdamW``: the optimizers that ran whose parameter file says ``implementation: <kind>``."""
        d = self.d
        return Text(french.enumeration([d.label(n) for n in d.optimizers if d.fact(n, "implementation") == kind]))

    def decayed(self, kind: str) -> Text:
        """``Adam et SGD``: the optimizers that ran whose parameter file says ``decay: <kind>``."""
        d = self.d
        return Text(french.enumeration([d.label(n) for n in d.optimizers if d.fact(n, "decay") == kind]))

    # ------------------------------------------------------------------ fine-tuning's memory
    def fine_tune_memory(self, key: str) -> Text:
        """The focus's optimizer state for the fine-tuned weights (``state``), its distance to its rivals' mean
        (``gap``), and whom it is set against (``than``: ``qu'Adam``, ``que la moyenne de ses rivaux``)."""
        state = findings.fine_tune_state(self.d)
        if state is None:
            return Text("n.d.")
        mine, theirs, rivals = state
        if key == "than":
            return Text(french.que(self.d.label(rivals[0])) if len(rivals) == 1 else "que la moyenne de ses rivaux")
        return Text(french.bytes_(mine if key == "state" else abs(theirs - mine)))
