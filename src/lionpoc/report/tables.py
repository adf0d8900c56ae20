"""The report's tables, as Markdown pipe tables: short headers, the captions explain the columns."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from lionpoc.data import breeds
from lionpoc.report import french
from lionpoc.report.figures import LABELS
from lionpoc.report.data import ReportData
from lionpoc.report.markup import Table

AXIS_NAMES = {"learning_rate": "taux", "weight_decay": "décroissance", "l2": "pénalité L2"}


def _empty(message: str) -> Table:
    return Table(pd.DataFrame({"": [message]}), "l")


def interval(low: float, high: float, points: bool = False) -> str:
    if low is None or math.isnan(low):
        return "n.d."
    fmt = (lambda v: french.number(100 * v, 1)) if points else (lambda v: french.percent(v))
    return f"[{fmt(low)} ; {fmt(high)}]"


def pm(mean: float, sd: float) -> str:
    return french.percent(mean) if sd is None or math.isnan(sd) else \
        f"{french.percent(mean)} ± {french.number(100 * sd, 1)}"


def p_value(p: float) -> str:
    return "< 0,001" if p < 0.001 else french.number(p, 3)


# ---------------------------------------------------------------------------------- protocol
def split(d: ReportData) -> Table:
    """Images per breed and per part of the split, with a total row."""
    if d.split.empty:
        return _empty("split.csv absent : relancer `lionpoc study`")
    counts = pd.crosstab(d.split["breed"], d.split["split"]).reindex(
        index=list(breeds.FOLDERS), columns=["train", "val", "test"], fill_value=0)
    counts["total"] = counts.sum(axis=1)
    counts.loc["total"] = counts.sum()
    counts.index = [*breeds.FRENCH, "**Total**"]
    frame = counts.reset_index()
    frame.columns = ["Race", "Entraînement", "Validation", "Test", "Total"]
    for column in frame.columns[1:]:
        frame[column] = frame[column].map(french.integer)
    return Table(frame, widths=[3, 2, 2, 2, 2])


def environment(d: ReportData) -> Table:
    """Machine and library versions recorded with the runs."""
    if d.empty:
        return _empty("aucun résultat")
    m = d.first()
    machine, versions = m["machine"], m["versions"]
    rows = [("Processeur", f"{machine['cpu']}, {machine['cores']} cœurs, "
                           f"{french.number(machine['ram_gib'], 0)}{french.NNBSP}Gio de mémoire"),
            ("GPU", ", ".join(machine["gpu"]) or "aucun"), ("Système", machine["system"]),
            ("Bibliothèques", ", ".join(f"{name} {version or 'absent'}" for name, version in versions.items()))]
    return Table(pd.DataFrame(rows, columns=["Élément", "Valeur"]), "ll", [1, 4])


def grid(d: ReportData) -> Table:
    """Each optimizer's grid and the configurations chosen on validation (with how many seeds chose each)."""
    rows = []
    for name in d.optimizers:
        params = d.first(name)["params"]
        axes = list(params["grid"])  # the learning rate, then the decay's axis when the optimizer has one
        group = d.runs[d.runs["optimizer"] == name]
        chosen = group.groupby(axes).size().sort_values(ascending=False)
        second = axes[1] if len(axes) > 1 else None
        fmt = lambda key: " ; ".join(french.scientific(v) for v in params["grid"][key])  # noqa: E731
        picks = [(k if isinstance(k, tuple) else (k,), n) for k, n in chosen.items()]
        rows.append({
            "Optimiseur": LABELS[name],
            "Taux η": fmt("learning_rate"),
            "Second axe": f"{AXIS_NAMES[second]} : {fmt(second)}" if second else "aucun",
            "Retenu (η ; second axe)": " / ".join(" ; ".join(french.scientific(v) for v in values)
                                                  + (f" ({n}×)" if len(picks) > 1 else "") for values, n in picks),
        })
    return Table(pd.DataFrame(rows), "llll", [2, 4, 5, 5]) if rows else _empty("aucun résultat")


# ---------------------------------------------------------------------------------- results
def summary(d: ReportData) -> Table:
    """Accuracy (with its interval), macro-F1, epochs, best epoch and head training time per optimizer."""
    rows = []
    for row in d.summary.itertuples():
        many = row.n_seeds > 1
        rows.append({"Optimiseur": LABELS[row.optimizer], "Exactitude": french.percent(row.test_accuracy_mean),
                     "IC 95 %": interval(row.test_accuracy_ci_low, row.test_accuracy_ci_high),
                     "F1 macro": french.percent(row.test_macro_f1_mean),
                     "Époques": french.number(row.epochs_run, 1 if many else 0),
                     "Retenue": french.number(row.best_epoch, 1 if many else 0),
                     "Durée": french.seconds(row.train_seconds)})
    return Table(pd.DataFrame(rows), widths=[3, 3, 5, 3, 2, 2, 2]) if rows else _empty("aucun résultat")


def per_breed_f1(d: ReportData) -> pd.DataFrame:
    """F1 per breed (rows, study order) and optimizer (columns), averaged over seeds; support too."""
    columns, support = {}, None
    for name in d.optimizers:
        reports = [pd.read_csv(p / "classification_report.csv", index_col=0).loc[list(breeds.NAMES)]
                   for p in d.run_paths(name)]
        columns[name] = np.mean([r["f1-score"].to_numpy() for r in reports], axis=0)
        support = reports[0]["support"].to_numpy()
    frame = pd.DataFrame(columns, index=list(breeds.FRENCH))
    frame["support"] = support if support is not None else np.nan
    return frame


def classes(d: ReportData) -> Table:
    """One table: per breed, the F1 of each optimizer (mean over seeds), the 2023 F1 of Adam and AdamW."""
    if d.empty:
        return _empty("aucun résultat")
    f1 = per_breed_f1(d)
    frame = pd.DataFrame({"Race": f1.index, "Images": f1["support"].map(french.integer)})
    for name in d.optimizers:
        frame[LABELS[name]] = f1[name].map(lambda v: french.number(v, 2))
    for name in ("adam", "adamw"):
        frame[f"{LABELS[name]} 2023"] = [french.number(r[2], 2) for r in d.old["per_breed"][name]]
    frame = frame.reset_index(drop=True)
    widths = [5, 2] + [2] * (len(frame.columns) - 2)
    return Table(frame, widths=widths)


def confused_pairs(d: ReportData, top: int = 6) -> Table:
    """The most frequent confusions (true breed predicted as another), summed over optimizers and seeds."""
    if d.empty:
        return _empty("aucun résultat")
    total, per_optimizer = None, {}
    for name in d.optimizers:
        matrices = [pd.read_csv(p / "confusion.csv", index_col=0) for p in d.run_paths(name)]
        mean = sum(m.to_numpy(dtype=float) for m in matrices) / len(matrices)
        per_optimizer[name] = mean
        total = mean if total is None else total + mean
    np.fill_diagonal(total, 0)
    order = np.dstack(np.unravel_index(np.argsort(-total, axis=None), total.shape))[0][:top]
    order = [(i, j) for i, j in order if total[i, j] > 0]
    if not order:
        return _empty("aucune confusion")
    frame = pd.DataFrame({"Race réelle": [breeds.FRENCH[i] for i, _ in order],
                          "Prédite": [breeds.FRENCH[j] for _, j in order]})
    for name in d.optimizers:
        frame[LABELS[name]] = french.counts([per_optimizer[name][i, j] for i, j in order])
    return Table(frame, "ll" + "r" * len(d.optimizers), [4, 4] + [2] * len(d.optimizers))


def comparison_2023(d: ReportData) -> Table:
    """Our accuracy and time next to the 2023 single runs."""
    rows = []
    for name, old in d.old["optimizers"].items():
        present = name in d.optimizers and not d.summary.empty
        s = d.row(name) if present else None
        rows.append({"Optimiseur": LABELS[name], "Exact. 2023": french.percent(old["accuracy"], 0),
                     "Époques 2023": str(old["epochs"]), "Durée 2023": f"{old['minutes']}{french.NNBSP}min",
                     "Exact. ici": french.percent(s.test_accuracy_mean) if present else "n.d.",
                     "Époques ici": french.number(s.epochs_run, 0) if present else "n.d.",
                     "Durée ici": french.seconds(s.train_seconds) if present else "n.d."})
    return Table(pd.DataFrame(rows), widths=[3, 2, 2, 2, 2, 2, 2])


# ---------------------------------------------------------------------------------- robustness
def robustness(d: ReportData) -> Table:
    rows = []
    for row in d.summary.itertuples():
        rows.append({"Optimiseur": LABELS[row.optimizer], "Graines": str(row.n_seeds),
                     "Exactitude": pm(row.test_accuracy_mean, row.test_accuracy_sd),
                     "IC 95 %": interval(row.test_accuracy_ci_low, row.test_accuracy_ci_high),
                     "F1 macro": pm(row.test_macro_f1_mean, row.test_macro_f1_sd)})
    return Table(pd.DataFrame(rows), widths=[3, 2, 4, 5, 4]) if rows else _empty("aucun résultat")


def pairs(d: ReportData, which: str = "head") -> Table:
    rows = []
    table = d.paired(which)
    both = french.counts([*table.only_a_mean, *table.only_b_mean])  # one format for the two counts of a cell
    discordant = [f"{a} / {b}" for a, b in zip(both[:len(table)], both[len(table):])]
    for row, images in zip(table.itertuples(), discordant):
        mcnemar = (f"{row.significant_seeds}/{row.n_seeds} ; p = {p_value(row.p_mcnemar_min)}" if row.n_seeds == 1 else
                   f"{row.significant_seeds}/{row.n_seeds} ; p de {p_value(row.p_mcnemar_min)} "
                   f"à {p_value(row.p_mcnemar_max)}")
        rows.append({"Paire": f"{LABELS[row.a]} − {LABELS[row.b]}",
                     "Écart": french.points(row.diff_accuracy),
                     "IC 95 %": interval(row.ci_low, row.ci_high, points=True),
                     "p": p_value(row.p_value),
                     "Discordantes": images,
                     "McNemar": mcnemar})
    if not rows:
        return _empty("un seul optimiseur : pas de comparaison")
    return Table(pd.DataFrame(rows), "lrrrrr", [5, 3, 4, 2, 4, 6])


def time_to_accuracy(d: ReportData, which: str = "head") -> Table:
    table = d.time_to_accuracy if which == "head" else d.fine_tune_time
    table = table[table.optimizer.isin(d.optimizers)]
    if table.empty:
        return _empty("aucun résultat")
    frame = pd.DataFrame({"Optimiseur": [LABELS[name] for name in table.optimizer],
                          "Ép. 95 %": french.counts(table.epochs_to_95),
                          "Temps 95 %": [french.seconds(x) for x in table.seconds_to_95],
                          "Ép. 99 %": french.counts(table.epochs_to_99),
                          "Temps 99 %": [french.seconds(x) for x in table.seconds_to_99],
                          "Par époque": [french.seconds(x) for x in table.seconds_per_epoch]})
    return Table(frame, widths=[3, 2, 2, 2, 2, 2])


def memory(d: ReportData) -> Table:
    if d.memory.empty:
        return _empty("memory.csv absent : relancer `lionpoc study`")
    rows = []
    for row in d.memory.itertuples():
        rows.append({"Modèle": {"head": "Tête seule", "xception": "Xception complet"}[row.model],
                     "Optimiseur": LABELS[row.optimizer], "Paramètres": french.integer(row.parameters),
                     "État": french.bytes_(row.state_bytes),
                     "Tenseurs": french.number(row.slots_per_weight, 0)})
    return Table(pd.DataFrame(rows), widths=[4, 3, 3, 3, 2])


# ---------------------------------------------------------------------------------- performance
def performance(d: ReportData) -> Table:
    """The study's own timings (``study.json``): each step, with the 2023 total for comparison."""
    s = d.study
    if not s:
        return _empty("study.json absent : relancer `lionpoc study`")
    cached = " (cache)" if s.get("features_from_cache") else ""
    rows = [("Passage de Xception sur les images" + cached, french.seconds(s["features_extraction_seconds"]))]
    for e in s.get("executions", []):
        rows.append((f"Carnet {LABELS[e['optimizer']]} ({french.plural(len(e['seeds']), 'graine')})",
                     french.seconds(e["seconds"])))
    if s.get("executions"):
        rows.append((f"Entraînements, en temps écoulé ({s.get('jobs', 1)} à la fois)",
                     french.seconds(s["trainings_seconds"])))
    rows.append(("Tableaux, mémoire, référence", french.seconds(s["aggregate_seconds"])))
    if s.get("render_seconds"):
        rows.append(("Rendu du rapport (à la fin de l’étude)", french.seconds(s["render_seconds"])))
    rows.append(("**Étude complète**", f"**{french.seconds(s['total_seconds'])}**"))
    rows.append(("Étude de 2023 (trois entraînements)", f"{d.old['total_minutes']}{french.NNBSP}min"))
    return Table(pd.DataFrame(rows, columns=["Étape", "Durée"]), "lr", [5, 2])


def benchmark(d: ReportData) -> Table:
    if d.benchmark is None:
        return _empty("benchmark.json absent : lancer `lionpoc bench`")
    rows = [{"Modèle": {"head": "Tête seule", "xception": "Xception complet"}[o["model"]],
             "Optimiseur": LABELS[o["optimizer"]], "Lot": str(o["batch"]),
             "Temps par pas": french.seconds(o["step_seconds"]) if o["step_seconds"] >= 0.01
             else f"{french.number(1000 * o['step_seconds'], 2)}{french.NNBSP}ms",
             "État": french.bytes_(o["state_bytes"])} for o in d.benchmark["optimizers"]]
    return Table(pd.DataFrame(rows), widths=[3, 2, 1, 2, 2])

# ---------------------------------------------------------------------------------- fine-tuning
def fine_tune(d: ReportData) -> Table | None:
    """Test accuracy before (head alone) and after fine-tuning block 14, with intervals, per optimizer."""
    if d.fine_tune.empty:
        return None
    rows = []
    for row in d.fine_tune.itertuples():
        rows.append({"Optimiseur": LABELS[row.optimizer], "Tête seule": french.percent(row.before_mean),
                     "IC 95 % avant": interval(row.before_ci_low, row.before_ci_high),
                     "Après": french.percent(row.after_mean),
                     "IC 95 % après": interval(row.after_ci_low, row.after_ci_high),
                     "Écart": french.points(row.after_mean - row.before_mean),
                     "Taux η": french.scientific(row.learning_rate)})
    return Table(pd.DataFrame(rows), widths=[3, 2, 4, 2, 4, 3, 2])


def fine_tune_costs(d: ReportData) -> Table | None:
    """Seconds per epoch, epochs, optimizer state for the fine-tuned weights and peak memory."""
    if d.fine_tune.empty:
        return None
    rows = []
    for row in d.fine_tune.itertuples():
        rows.append({"Optimiseur": LABELS[row.optimizer], "Par époque": french.seconds(row.seconds_per_epoch),
                     "Époques": french.number(row.epochs_run, 1 if row.n_seeds > 1 else 0),
                     "Paramètres": french.integer(row.trainable_parameters),
                     "État": french.bytes_(row.state_bytes), "Pic mémoire": french.bytes_(row.peak_memory_bytes)})
    return Table(pd.DataFrame(rows), widths=[3, 2, 2, 3, 2, 3])
