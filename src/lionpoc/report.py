"""What the French report shows: tables (pandas), figures (matplotlib) and sentences, from ``results/``.

Every ``.qmd`` cell is a one-line call into a ``Report`` loaded once; nothing is typed by hand.
Missing optimizers never crash the report: tables skip them and a warning names the command.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from . import aggregate, breeds, figures, french, paths, results, stats
from .config import GRID_AXES, OPTIMIZERS

LABELS = figures.LABELS
# Figures of the 2023 proof of concept (single runs, 326 test images, CPU i5-10400F, 32 GB).
STUDY_2023 = {"baseline_accuracy": 0.77, "n_test": 326,
              "adam": {"accuracy": 0.84, "epochs": 100, "minutes": 84},
              "adamw": {"accuracy": 0.85, "epochs": 100, "minutes": 88},
              "lion": {"accuracy": 0.84, "epochs": 26, "minutes": 22}}
AXIS_NAMES = {"learning_rate": "taux d'apprentissage", "weight_decay": "décroissance des poids",
              "l2": "pénalité L2"}


class Text(str):
    """A string shown as is by Quarto's inline code, whether it reads text/plain or text/markdown."""

    def __repr__(self):
        return str(self)

    def _repr_markdown_(self):
        return str(self)


class Table:
    """A DataFrame displayed as a Markdown pipe table, so HTML and Typst both get a native table."""

    def __init__(self, frame: pd.DataFrame, align: str | None = None):
        self.frame = frame
        self.align = align

    def _repr_markdown_(self):
        return markdown_table(self.frame, self.align)

    def __repr__(self):
        return markdown_table(self.frame, self.align)


def markdown_table(frame: pd.DataFrame, align: str | None = None) -> str:
    """Pipe table; first column left-aligned, others right-aligned unless ``align`` says otherwise."""
    columns = [str(c) for c in frame.columns]
    align = align or "l" + "r" * (len(columns) - 1)
    rule = {"l": ":---", "r": "---:", "c": ":---:"}
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join(rule[a] for a in align) + "|"]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |")
    return "\n".join(lines)


@dataclass
class Report:
    results_dir: Path
    runs: pd.DataFrame = field(repr=False)

    # ------------------------------------------------------------------ loading and status
    @property
    def optimizers(self) -> list[str]:
        return [name for name in OPTIMIZERS if not self.runs.empty and name in set(self.runs["optimizer"])]

    @property
    def missing(self) -> list[str]:
        return [name for name in OPTIMIZERS if name not in self.optimizers]

    @property
    def synthetic(self) -> bool:
        return not self.runs.empty and bool((self.runs["data_kind"] == "synthetic").any())

    def first(self, optimizer: str | None = None) -> dict:
        """metrics.json of the first run (of an optimizer, or of the study)."""
        rows = self.runs if optimizer is None else self.runs[self.runs["optimizer"] == optimizer]
        return results.read_json(Path(rows["path"].iloc[0]) / "metrics.json")

    def warnings(self) -> Text:
        """Visible callouts: synthetic data, missing optimizers (with the command that makes them)."""
        parts = []
        if self.runs.empty:
            parts.append(_callout("important", "Aucun résultat",
                                  f"Le dossier `{self.results_dir}` ne contient aucun résultat. Lancez "
                                  "`lionpoc study` (ou `lionpoc study --smoke` pour un essai rapide), puis "
                                  "`lionpoc render`."))
        if self.synthetic:
            parts.append(_callout("warning", "Données synthétiques",
                                  "Ces résultats viennent d'images synthétiques (formes colorées) et d'un Xception "
                                  "aux poids aléatoires (`lionpoc study --smoke`). Ils valident la chaîne de "
                                  "traitement, pas la question posée : aucun chiffre ci-dessous ne concerne des "
                                  "chiens. Le rapport définitif s'obtient avec `lionpoc study`."))
        if self.missing and not self.runs.empty:
            names = ", ".join(LABELS[m] for m in self.missing)
            command = f"lionpoc study --optimizers {','.join(self.missing)}"
            parts.append(_callout("warning", "Résultats incomplets",
                                  f"Il manque les résultats de : {names}. Les tableaux et figures ne montrent que "
                                  f"les autres optimiseurs. Pour les produire : `{command}`."))
        return Text("\n\n".join(parts))

    # ------------------------------------------------------------------ data and protocol
    @cached_property
    def split(self) -> pd.DataFrame:
        path = self.results_dir / "split.csv"
        return pd.read_csv(path) if path.is_file() else pd.DataFrame(columns=["file", "breed", "label", "split"])

    def count(self, part: str | None = None) -> Text:
        rows = self.split if part is None else self.split[self.split["split"] == part]
        return Text(french.integer(len(rows)))

    def split_table(self) -> Table:
        """Images per breed and per split, with a total row."""
        counts = pd.crosstab(self.split["breed"], self.split["split"]).reindex(
            index=list(breeds.FOLDERS), columns=["train", "val", "test"], fill_value=0)
        counts["total"] = counts.sum(axis=1)
        counts.loc["total"] = counts.sum()
        counts.index = [*breeds.NAMES, "**Total**"]
        frame = counts.reset_index()
        frame.columns = ["Race", "Entraînement", "Validation", "Test", "Total"]
        for column in frame.columns[1:]:
            frame[column] = frame[column].map(french.integer)
        return Table(frame)

    def setting(self, key: str) -> Text:
        """One protocol parameter of the study, in French (image size, epochs, patience, ...)."""
        if self.runs.empty:
            return Text("n.d.")
        params = self.first()["params"]
        value = params[key]
        if key == "weights":
            return Text({"imagenet": "ceux appris sur ImageNet",
                         "none": "aléatoires (aucun pré-entraînement)"}.get(value,
                        f"lues dans le fichier `{Path(value).name}`"))
        if isinstance(value, float):
            return Text(french.number(value, 2).rstrip("0").rstrip(","))
        return Text(str(value))

    def feature_time(self) -> Text:
        """Time of the single pass of the frozen base over every image (shared by all runs)."""
        if self.runs.empty:
            return Text("n.d.")
        return Text(french.seconds(float(self.first()["feature_seconds"])))

    def seeds(self) -> Text:
        return Text(str(int(self.runs.groupby("optimizer").size().max())) if not self.runs.empty else "0")

    def skipped(self) -> Text:
        if self.runs.empty:
            return Text("")
        skipped = self.first()["skipped_files"]
        if not skipped:
            return Text("Toutes les images ont pu être lues.")
        return Text(f"{len(skipped)} fichier(s) illisible(s) ont été écartés : "
                    + ", ".join(f"`{s['file']}`" for s in skipped[:5]) + ("…" if len(skipped) > 5 else "") + ".")

    def environment_table(self) -> Table:
        """Machine and library versions recorded in metrics.json."""
        if self.runs.empty:
            return Table(pd.DataFrame({"Élément": [], "Valeur": []}))
        m = self.first()
        machine, versions = m["machine"], m["versions"]
        rows = [("Processeur", machine["cpu"]), ("Cœurs", str(machine["cores"])),
                ("Mémoire vive", f"{french.number(machine['ram_gib'], 0)} Gio"),
                ("GPU", ", ".join(machine["gpu"]) or "aucun"), ("Système", machine["system"])]
        rows += [(name, version or "absent") for name, version in versions.items()]
        return Table(pd.DataFrame(rows, columns=["Élément", "Valeur"]), "ll")

    def grid_table(self) -> Table:
        """Each optimizer's grid and the values chosen on validation (per seed when they differ)."""
        rows = []
        for name in self.optimizers:
            params = self.first(name)["params"]
            first, second = GRID_AXES[name]
            group = self.runs[self.runs["optimizer"] == name]
            chosen = sorted({(r[first], r[second]) for _, r in group.iterrows()})
            rows.append({
                "Optimiseur": LABELS[name],
                "Taux d'apprentissage testés": " ; ".join(french.scientific(v) for v in params["grid"][first]),
                "Second axe": f"{AXIS_NAMES[second]} : " + " ; ".join(french.scientific(v) for v in params["grid"][second]),
                "Configurations": str(len(params["grid"][first]) * len(params["grid"][second])),
                "Retenu (validation)": " / ".join(f"{french.scientific(a)}, {french.scientific(b)}" for a, b in chosen),
            })
        return Table(pd.DataFrame(rows), "lllrl")

    # ------------------------------------------------------------------ analysis
    @cached_property
    def summary(self) -> pd.DataFrame:
        return aggregate.summary(self.runs) if not self.runs.empty else pd.DataFrame()

    def metric(self, optimizer: str, column: str = "test_accuracy_mean", kind: str = "percent") -> Text:
        """One number of the summary, formatted (``percent``, ``number``, ``seconds``, ``integer``)."""
        if optimizer not in self.optimizers:
            return Text("n.d.")
        value = float(self.summary.set_index("optimizer").loc[optimizer, column])
        return Text({"percent": french.percent, "number": lambda v: french.number(v, 3),
                     "seconds": french.seconds, "integer": french.integer}[kind](value))

    def summary_table(self) -> Table:
        """Accuracy, macro-F1, epochs, best epoch, total and per-epoch time per optimizer (means over seeds)."""
        rows = []
        for row in self.summary.itertuples():
            rows.append({"Optimiseur": LABELS[row.optimizer], "Exactitude": french.percent(row.test_accuracy_mean),
                         "F1 macro": french.percent(row.test_macro_f1_mean),
                         "Époques": french.number(row.epochs_run, 1 if row.n_seeds > 1 else 0),
                         "Meilleure époque": french.number(row.best_epoch, 1 if row.n_seeds > 1 else 0),
                         "Durée totale": french.seconds(row.train_seconds),
                         "Par époque": french.seconds(row.seconds_per_epoch),
                         "Graines": str(row.n_seeds)})
        return Table(pd.DataFrame(rows))

    def class_table(self, optimizer: str) -> Table:
        """Per-breed precision, recall, F1 and support of an optimizer's first seed."""
        if optimizer not in self.optimizers:
            return Table(pd.DataFrame({"Race": [f"Résultats absents : lancer `lionpoc study --optimizers {optimizer}`"]}))
        run = Path(self.runs[self.runs["optimizer"] == optimizer]["path"].iloc[0])
        report = pd.read_csv(run / "classification_report.csv", index_col=0).loc[list(breeds.NAMES)]
        frame = pd.DataFrame({"Race": report.index, "Précision": report["precision"].map(french.percent),
                              "Rappel": report["recall"].map(french.percent),
                              "F1": report["f1-score"].map(french.percent),
                              "Images": report["support"].map(french.integer)})
        return Table(frame)

    def histories_figure(self):
        runs = {}
        for name in self.optimizers:
            run = Path(self.runs[self.runs["optimizer"] == name]["path"].iloc[0])
            runs[name] = (pd.read_csv(run / "history.csv"), int(results.read_json(run / "metrics.json")["best_epoch"]))
        return _shown_once(figures.histories(runs) if runs else _empty_figure())

    def confusion_figure(self, optimizer: str):
        if optimizer not in self.optimizers:
            return _empty_figure(f"{LABELS[optimizer]} : résultats absents")
        run = Path(self.runs[self.runs["optimizer"] == optimizer]["path"].iloc[0])
        return _shown_once(figures.confusion(pd.read_csv(run / "confusion.csv", index_col=0)))

    def timing_figure(self):
        if self.summary.empty:
            return _empty_figure()
        return _shown_once(figures.timing(self.summary.set_index("optimizer")))

    def comparison_2023_table(self) -> Table:
        """Our accuracy and training time next to the 2023 study's single runs."""
        rows = []
        for name in OPTIMIZERS:
            old = STUDY_2023[name]
            present = name in self.optimizers
            s = self.summary.set_index("optimizer").loc[name] if present else None
            rows.append({"Optimiseur": LABELS[name], "Exactitude 2023": french.percent(old["accuracy"], 0),
                         "Époques 2023": str(old["epochs"]), "Durée 2023": f"{old['minutes']}{french.NNBSP}min",
                         "Exactitude (ici)": french.percent(s.test_accuracy_mean) if present else "n.d.",
                         "Époques (ici)": french.number(s.epochs_run, 0) if present else "n.d.",
                         "Durée tête (ici)": french.seconds(s.train_seconds) if present else "n.d."})
        return Table(pd.DataFrame(rows))

    # ------------------------------------------------------------------ robustness
    def robustness_table(self) -> Table:
        rows = []
        for row in self.summary.itertuples():
            rows.append({"Optimiseur": LABELS[row.optimizer], "Graines": str(row.n_seeds),
                         "Exactitude (moyenne ± é.-t.)": _pm(row.test_accuracy_mean, row.test_accuracy_sd),
                         "IC 95 % exactitude": _interval(row.test_accuracy_ci_low, row.test_accuracy_ci_high),
                         "F1 macro (moyenne ± é.-t.)": _pm(row.test_macro_f1_mean, row.test_macro_f1_sd),
                         "IC 95 % F1": _interval(row.test_macro_f1_ci_low, row.test_macro_f1_ci_high)})
        return Table(pd.DataFrame(rows))

    @cached_property
    def pairs(self) -> pd.DataFrame:
        return aggregate.pairs(self.runs) if len(self.optimizers) > 1 else pd.DataFrame()

    def pairs_table(self) -> Table:
        rows = []
        for row in self.pairs.itertuples():
            rows.append({"Comparaison": f"{LABELS[row.a]} − {LABELS[row.b]}",
                         "Écart d'exactitude": french.points(row.diff_accuracy),
                         "IC 95 % (bootstrap)": _interval(row.ci_low, row.ci_high, points=True),
                         "Images discordantes": f"{row.b_only_a} / {row.c_only_b}",
                         "p (McNemar)": _p(row.p_value),
                         "Graines p < 0,05": f"{row.significant_seeds}/{row.n_seeds}"})
        return Table(pd.DataFrame(rows) if rows else pd.DataFrame({"Comparaison": ["(un seul optimiseur)"]}))

    def time_to_accuracy_table(self) -> Table:
        table = aggregate.time_to_accuracy(self.runs) if not self.runs.empty else pd.DataFrame()
        rows = []
        for row in table.itertuples():
            rows.append({"Optimiseur": LABELS[row.optimizer], "Époques → 95 %": french.number(row.epochs_to_95, 1),
                         "Temps → 95 %": french.seconds(row.seconds_to_95),
                         "Époques → 99 %": french.number(row.epochs_to_99, 1),
                         "Temps → 99 %": french.seconds(row.seconds_to_99),
                         "Par époque": french.seconds(row.seconds_per_epoch)})
        return Table(pd.DataFrame(rows))

    @cached_property
    def memory(self) -> pd.DataFrame:
        path = self.results_dir / "memory.csv"
        return pd.read_csv(path) if path.is_file() else pd.DataFrame()

    def memory_table(self) -> Table:
        if self.memory.empty:
            return Table(pd.DataFrame({"Modèle": ["memory.csv absent : relancer `lionpoc study`"]}))
        rows = []
        for row in self.memory.itertuples():
            rows.append({"Modèle": {"head": "Tête seule", "xception": "Xception complet"}[row.model],
                         "Optimiseur": LABELS[row.optimizer], "Paramètres": french.integer(row.parameters),
                         "État de l'optimiseur": french.bytes_(row.state_bytes),
                         "Tenseurs par poids": french.number(row.slots_per_weight, 0)})
        return Table(pd.DataFrame(rows))

    def memory_ratio(self) -> Text:
        if self.memory.empty:
            return Text("n.d.")
        full = self.memory[self.memory["model"] == "xception"].set_index("optimizer")["state_bytes"]
        return Text(french.bytes_(full["adamw"] - full["lion"]))

    @cached_property
    def baseline(self) -> dict:
        path = self.results_dir / "baseline.json"
        return results.read_json(path) if path.is_file() else {"available": False, "reason": "baseline.json absent"}

    def baseline_text(self) -> Text:
        b = self.baseline
        if b.get("available"):
            best = self.summary["test_accuracy_mean"].max() if not self.summary.empty else math.nan
            return Text(f"Sans aucun entraînement, le classifieur ImageNet de Xception restreint aux 15 races atteint "
                        f"{french.percent(b['accuracy'])} d'exactitude sur les {french.integer(b['n_test'])} images "
                        f"de test ; la meilleure tête entraînée atteint {french.percent(best)}, soit "
                        f"{french.points(best - b['accuracy'])} apportés par l'apprentissage par transfert.")
        return Text("La référence sans entraînement n'a pas pu être calculée pour ces résultats "
                    f"({_reason_fr(b.get('reason'))}) ; l'étude de 2023 indiquait une exactitude de "
                    f"{french.percent(STUDY_2023['baseline_accuracy'], 0)} pour sa référence.")

    # ------------------------------------------------------------------ performance of the prototype
    @cached_property
    def benchmark(self) -> dict | None:
        path = self.results_dir / "benchmark.json"
        return results.read_json(path) if path.is_file() else None

    def benchmark_text(self) -> Text:
        b = self.benchmark
        if b is None:
            return Text("Aucune mesure de performance n'est disponible : lancez `lionpoc bench` pour l'obtenir.")
        cache, extraction = b["cache"], b["extraction"]
        day = '/'.join(reversed(b['created_at'][:10].split('-')))
        text = (f"Mesuré le {day} sur {b['machine']['cores']} cœurs ({b['machine']['cpu']}), "
                f"à {cache['image_size']} pixels et sur {cache['images']} images : une époque de la tête sur les "
                f"caractéristiques en cache prend {french.seconds(cache['cached_epoch_seconds'])}, contre "
                f"{french.seconds(cache['naive_epoch_seconds'])} si chaque époque refait passer les images dans "
                f"Xception, soit un facteur {french.number(cache['speedup'], 0)}. L'extraction traite "
                f"{french.number(extraction['pipeline_images_per_second'], 1)} images par seconde, "
                f"{french.percent(extraction['pipeline_fraction_of_bare'], 0)} du débit du seul passage avant "
                f"({french.number(extraction['bare_forward_images_per_second'], 1)} images/s) : le décodage des "
                f"images, fait en parallèle, ne freine presque pas le modèle.")
        smoke = b.get("smoke_study")
        if smoke:
            text += (f" L'étude de démonstration complète (`--smoke`) dure {french.seconds(smoke['total_seconds'])}, "
                     f"dont {french.seconds(smoke.get('features_seconds', 0))} d'extraction des caractéristiques.")
        return Text(text)

    def benchmark_table(self) -> Table:
        if self.benchmark is None:
            return Table(pd.DataFrame({"Modèle": ["benchmark.json absent : lancer `lionpoc bench`"]}))
        rows = [{"Modèle": {"head": "Tête seule", "xception": "Xception complet"}[o["model"]],
                 "Optimiseur": LABELS[o["optimizer"]], "Lot": str(o["batch"]),
                 "Temps par pas": french.seconds(o["step_seconds"]) if o["step_seconds"] >= 0.01
                 else f"{french.number(1000 * o['step_seconds'], 2)}{french.NNBSP}ms",
                 "État": french.bytes_(o["state_bytes"])} for o in self.benchmark["optimizers"]]
        return Table(pd.DataFrame(rows))

    # ------------------------------------------------------------------ conclusion
    def ranking(self) -> list[str]:
        return list(self.summary.sort_values("test_accuracy_mean", ascending=False)["optimizer"]) \
            if not self.summary.empty else []

    def pair(self, a: str, b: str) -> dict | None:
        for row in self.pairs.to_dict("records"):
            if {row["a"], row["b"]} == {a, b}:
                if row["a"] != a:
                    row = {**row, "a": a, "b": b, "diff_accuracy": -row["diff_accuracy"],
                           "ci_low": -row["ci_high"], "ci_high": -row["ci_low"]}
                return row
        return None

    def noise_text(self) -> Text:
        if self.runs.empty:
            return Text("")
        n = int(self.runs["n_test"].iloc[0])
        best = float(self.summary["test_accuracy_mean"].max())
        low, high = stats.wilson_ci(round(best * n), n)
        return Text(f"Avec {french.integer(n)} images de test, une image vaut {french.number(100 / n, 2)} point ; "
                    f"une exactitude de {french.percent(best)} mesurée sur un seul essai a un intervalle de "
                    f"confiance à 95 % (Wilson) de {_interval(low, high)}.")

    def conclusion(self) -> Text:
        """The answer, generated from the numbers: who wins, by how much, and whether it is noise."""
        order = self.ranking()
        if not order:
            return Text("Aucune conclusion n'est possible sans résultats.")
        s = self.summary.set_index("optimizer")
        best = order[0]
        sentences = [f"{LABELS[best]} obtient la meilleure exactitude moyenne sur le test "
                     f"({french.percent(s.loc[best, 'test_accuracy_mean'])}, F1 macro "
                     f"{french.percent(s.loc[best, 'test_macro_f1_mean'])})."]
        for other in order[1:]:
            pair = self.pair(best, other)
            if pair is None:
                continue
            noise = pair["ci_low"] <= 0 <= pair["ci_high"] or pair["p_value"] >= 0.05
            verdict = ("un écart qui reste dans le bruit de mesure" if noise else "un écart statistiquement significatif")
            sentences.append(f"Devant {LABELS[other]}, l'avance est de {french.points(pair['diff_accuracy'])} "
                             f"(IC 95 % {_interval(pair['ci_low'], pair['ci_high'], points=True)}, McNemar "
                             f"p = {_p(pair['p_value'])}) : {verdict}.")
        if "lion" in s.index and len(s) > 1:
            rivals = [o for o in order if o != "lion"]
            rival = rivals[0]
            pair = self.pair("lion", rival)
            if pair is not None:
                beats = pair["ci_low"] > 0 and pair["p_value"] < 0.05
                loses = pair["ci_high"] < 0 and pair["p_value"] < 0.05
                answer = ("Lion bat donc nettement" if beats else "Lion fait donc nettement moins bien que" if loses
                          else "Lion ne se distingue donc pas significativement de")
                sentences.append(f"À la question posée, la réponse est : {_de(answer, LABELS[rival])} dans ce protocole.")
            faster = s.loc["lion", "train_seconds"] < s.drop(index="lion")["train_seconds"].min()
            per_epoch = s.loc["lion", "seconds_per_epoch"] / s.drop(index="lion")["seconds_per_epoch"].mean()
            epochs = s.loc["lion", "epochs_run"] / s.drop(index="lion")["epochs_run"].mean()
            sentences.append(
                f"Côté coût, Lion s'entraîne {'plus vite' if faster else 'moins vite'} que les autres "
                f"({french.seconds(s.loc['lion', 'train_seconds'])}) ; son temps par époque vaut "
                f"{french.number(per_epoch, 2)} fois celui des autres et son nombre d'époques "
                f"{french.number(epochs, 2)} fois le leur : "
                + ("la différence vient surtout de l'arrêt précoce." if abs(epochs - 1) > abs(per_epoch - 1)
                   else "la différence vient surtout du coût de chaque pas."))
        if self.synthetic:
            sentences.append("Ces chiffres proviennent de données synthétiques : ils valident la chaîne, "
                             "pas la comparaison des optimiseurs.")
        return Text(" ".join(sentences))

    def notebook_links(self) -> Text:
        """Links to each executed notebook (HTML view and .ipynb), relative to the rendered report."""
        lines = []
        for run in self.runs.itertuples():
            rel = f"../results/{run.optimizer}/seed-{run.seed}/training"
            lines.append(f"- {LABELS[run.optimizer]}, graine {run.seed} : [carnet exécuté]({rel}.html) "
                         f"([.ipynb]({rel}.ipynb))")
        return Text("\n".join(lines) if lines else "Aucun carnet exécuté.")


def load(results_dir: str | Path | None = None) -> Report:
    """The report's data: ``results_dir``, else ``$LIONPOC_RESULTS``, else ``<project>/results``."""
    folder = paths.results_dir(results_dir)
    runs = aggregate.load_runs(folder) if folder.is_dir() else pd.DataFrame()
    return Report(folder, runs)


# ---------------------------------------------------------------------------------- helpers
def _callout(kind: str, title: str, body: str) -> str:
    return f"::: {{.callout-{kind}}}\n## {title}\n\n{body}\n:::"


def _de(text: str, name: str) -> str:
    """``... de`` + name with the French elision before a vowel: "de AdamW" -> "d'AdamW"."""
    if text.endswith(" de") and name[0].lower() in "aeiouy":
        return f"{text[:-3]} d'{name}"
    return f"{text} {name}"


def _pm(mean: float, sd: float) -> str:
    return french.percent(mean) if math.isnan(sd) else f"{french.percent(mean)} ± {french.number(100 * sd, 1)}"


def _interval(low: float, high: float, points: bool = False) -> str:
    if math.isnan(low):
        return "n.d. (une seule graine)"
    if points:
        fmt = lambda v: french.number(100 * v, 1).replace("-", "−")  # noqa: E731
    else:  # an accuracy lies in [0, 1], even when a t interval over few seeds spills over
        fmt = lambda v: french.percent(min(1.0, max(0.0, v)))  # noqa: E731
    return f"[{fmt(low)} ; {fmt(high)}]"


def _p(p: float) -> str:
    return "< 0,001" if p < 0.001 else french.number(p, 3)


def _reason_fr(reason: str | None) -> str:
    if reason and "ImageNet" in reason:
        return "elle exige les poids ImageNet du classifieur de Xception, absents de cette exécution"
    return reason or "raison inconnue"


def _shown_once(fig):
    """Close the figure before returning it: Jupyter then displays the returned value only, instead of
    also drawing every open figure at the end of the cell (which would show it twice)."""
    import matplotlib.pyplot as plt

    plt.close(fig)
    return fig


def _empty_figure(message: str = "Aucun résultat"):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 1.2))
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center")
    return _shown_once(fig)
