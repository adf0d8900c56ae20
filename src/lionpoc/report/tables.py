"""The report's tables, as Markdown pipe tables: short headers, the captions explain the columns."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from lionpoc.model import backbones
from lionpoc.report import findings
from lionpoc.report import french
from lionpoc.report.data import ReportData
from lionpoc.report.markup import Table, escape

AXIS_NAMES = {"learning_rate": "taux", "weight_decay": "décroissance", "l2": "pénalité L2"}


def _empty(message: str) -> Table:
    return Table(pd.DataFrame({"": [message]}), "l")


def interval(low: float, high: float, points: bool = False) -> str:
    if low is None or math.isnan(low):
        return "n.d."
    fmt = french.bound_points if points else (lambda v: french.percent(v))
    return f"[{fmt(low)} ; {fmt(high)}]"


def pm(mean: float, sd: float) -> str:
    return french.percent(mean) if sd is None or math.isnan(sd) else \
        f"{french.percent(mean)} ± {french.number(100 * sd, 1)}"


def p_value(p: float) -> str:
    return "<\u00a00,001" if p < 0.001 else french.number(p, 3)


def _caption(table: Table, caption: str, label: str) -> Table:
    return table.captioned(caption, label)


# ---------------------------------------------------------------------------------- protocol
def split(d: ReportData) -> Table:
    """Images per class and per part of the split, with a total row; beyond ``findings.MANY_CLASSES`` classes,
    the fewest, median and most images of a class in each part, and the totals."""
    if d.split.empty:
        return _empty("split.csv absent : relancer `lionpoc study`")
    dataset = d.dataset
    counts = pd.crosstab(d.split["breed"], d.split["split"]).reindex(
        index=list(dataset.folders), columns=["train", "val", "test"], fill_value=0)
    counts["total"] = counts.sum(axis=1)
    if dataset.n_classes > findings.MANY_CLASSES:
        race = dataset.words[0]
        frame = pd.DataFrame({"Par " + race: [f"Plus petite {race}", "Médiane", f"Plus grande {race}", "**Total**"]})
        for column, name in zip(counts.columns, ["Entraînement", "Validation", "Test", "Total"]):
            values = [counts[column].min(), counts[column].median(), counts[column].max(), counts[column].sum()]
            frame[name] = [french.number(v, 1) if v != int(v) else french.integer(v) for v in values]
        return Table(frame, widths=[4, 2, 2, 2, 2])
    counts.loc["total"] = counts.sum()
    counts.index = [*d.class_names, "**Total**"]
    frame = counts.reset_index()
    frame.columns = [french.capital(dataset.words[0]), "Entraînement", "Validation", "Test", "Total"]
    for column in frame.columns[1:]:
        frame[column] = frame[column].map(french.integer)
    return Table(frame, widths=[3, 2, 2, 2, 2])


def environment(d: ReportData) -> Table:
    """Machine and library versions recorded with the runs."""
    if d.empty:
        return _empty("aucun résultat")
    m = d.first()
    machine, versions = m["machine"], m["versions"]
    rows = [("Processeur", f"{escape(machine['cpu'])}, {machine['cores']} cœurs, "
                           f"{french.number(machine['ram_gib'], 0)}{french.NNBSP}Gio de mémoire"),
            ("GPU", escape(", ".join(machine["gpu"])) or "aucun"), ("Système", escape(machine["system"])),
            ("Bibliothèques", escape(", ".join(f"{name} {version or 'absent'}" for name, version in versions.items())))]
    return Table(pd.DataFrame(rows, columns=["Élément", "Valeur"]), "ll", [1, 4])


def grid_axes(grid: dict) -> tuple[str, str | None]:
    """The learning-rate axis and the second axis (``l2``, ``weight_decay``, or none) of a grid."""
    others = [k for k in grid if k != "learning_rate"]
    return "learning_rate", (others[0] if others else None)


def grid(d: ReportData) -> Table:
    """Each optimizer's grid and the configurations chosen on validation (with how many seeds chose each)."""
    rows = []
    trials = d.table("tuning_trials.csv")
    for name in d.optimizers:
        params = d.first(name)["params"]
        first, second = grid_axes(params["grid"])
        group = d.runs[d.runs["optimizer"] == name]
        chosen = group.groupby([first, second] if second else [first]).size().sort_values(ascending=False)
        tried = trials[trials["optimizer"] == name] if not trials.empty else trials
        added = []
        for axis, column, symbol in ((first, "learning_rate", "η"), (second, "decay", AXIS_NAMES.get(second, ""))):
            if axis is None or tried.empty or column not in tried:
                continue
            initial = [float(v) for v in params["grid"][axis]]
            new = sorted(v for v in tried[column].dropna().unique()
                         if not any(abs(v - i) <= 1e-9 * max(abs(i), 1e-12) for i in initial))
            if new:
                added.append(f"{symbol} : " + " ; ".join(french.scientific(v) for v in new))
        rows.append({
            "Optimiseur": d.label(name),
            "Taux η": " ; ".join(french.scientific(v) for v in params["grid"][first]),
            "Second axe": (f"{AXIS_NAMES.get(second, escape(second))} : "
                           + " ; ".join(french.scientific(v) for v in params["grid"][second])) if second else "aucun",
            "Ajoutées": " — ".join(added) if added else ("aucune" if not tried.empty else "n.d."),
            "Retenu (η ; second axe)": " / ".join(" ; ".join(french.scientific(v) for v in np.atleast_1d(key))
                                                  + (f" ({n}×)" if len(chosen) > 1 else "")
                                                  for key, n in chosen.items()),
        })
    return Table(pd.DataFrame(rows), "lllll", [2, 4, 5, 4, 4]) if rows else _empty("aucun résultat")


# ---------------------------------------------------------------------------------- results
def summary(d: ReportData) -> Table:
    """Accuracy (with its interval), macro-F1, epochs, best epoch and head training time per optimizer."""
    rows = []
    for row in d.summary.itertuples():
        many = row.n_seeds > 1
        rows.append({"Optimiseur": d.label(row.optimizer), "Exactitude": french.percent(row.test_accuracy_mean),
                     "IC 95 %": interval(row.test_accuracy_ci_low, row.test_accuracy_ci_high),
                     "F1 macro": french.percent(row.test_macro_f1_mean),
                     "Époques": french.number(row.epochs_run, 1 if many else 0),
                     "Retenue": french.number(row.best_epoch, 1 if many else 0),
                     "Durée": row.train_seconds})
    if not rows:
        return _empty("aucun résultat")
    frame = pd.DataFrame(rows)
    frame["Durée"] = french.durations(frame["Durée"])
    return Table(frame, widths=[3, 3, 5, 3, 2, 2, 2])


def per_breed_f1(d: ReportData) -> pd.DataFrame:
    """F1 per breed (rows, study order) and optimizer (columns), averaged over seeds; support too."""
    columns, support = {}, None
    for name in d.optimizers:
        reports = [pd.read_csv(p / "classification_report.csv", index_col=0).loc[list(d.dataset.names)]
                   for p in d.run_paths(name)]
        columns[name] = np.mean([r["f1-score"].to_numpy() for r in reports], axis=0)
        support = reports[0]["support"].to_numpy()
    frame = pd.DataFrame(columns, index=d.class_names)
    frame["support"] = support if support is not None else np.nan
    return frame


def classes(d: ReportData) -> Table:
    """Per breed, the F1 of each optimizer (mean over seeds)."""
    race = d.dataset.words[0]
    if d.empty:
        return _empty("aucun résultat").captioned(f"F1 par {race} sur le test.", "tbl-classes")
    f1 = per_breed_f1(d)
    frame = pd.DataFrame({french.capital(race): f1.index, "Images": f1["support"].map(french.integer)})
    for name in d.optimizers:
        frame[d.label(name)] = f1[name].map(lambda v: french.number(v, 2))
    frame = frame.reset_index(drop=True)
    widths = [5, 2] + [2] * (len(frame.columns) - 2)
    caption = f"F1 par {race} sur le test (moyenne sur les graines) ; « Images » : nombre d'images de test de la {race}"
    return Table(frame, widths=widths).captioned(caption + ".", "tbl-classes")


def best_and_worst(d: ReportData, count: int = 5) -> Table:
    """With many classes: the ``count`` classes with the best F1 and the ``count`` with the worst (F1 averaged
    over the optimizers, and each optimizer's own), sorted from best to worst, with their test images."""
    race = d.dataset.words[0]
    caption = (f"Les {french.in_words(count)} {d.dataset.words[1]} les mieux et les moins bien reconnues : F1 sur le "
               f"test (moyenne sur les graines), {race}s triées du meilleur F1 moyen au plus faible ; « Images » : "
               f"images de test de la {race}.")
    if d.empty:
        return _empty("aucun résultat").captioned(caption, "tbl-classes")
    f1 = per_breed_f1(d)
    f1["mean"] = f1[list(d.optimizers)].mean(axis=1)
    ranked = f1.sort_values("mean", ascending=False, kind="stable")
    chosen = pd.concat([ranked.head(count), ranked.tail(count)]) if len(ranked) > 2 * count else ranked
    frame = pd.DataFrame({french.capital(race): chosen.index, "Images": chosen["support"].map(french.integer)})
    for name in d.optimizers:
        frame[d.label(name)] = chosen[name].map(lambda v: french.number(v, 2)).to_numpy()
    frame["Moyenne"] = chosen["mean"].map(lambda v: french.number(v, 2)).to_numpy()
    if len(ranked) > 2 * count:
        gap = pd.DataFrame([{c: ("…" if i == 0 else "") for i, c in enumerate(frame.columns)}])
        frame = pd.concat([frame.iloc[:count], gap, frame.iloc[count:]], ignore_index=True)
    return Table(frame.reset_index(drop=True), widths=[5, 2] + [2] * (len(frame.columns) - 2)).captioned(
        caption, "tbl-classes")


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
    shown = d.class_names
    frame = pd.DataFrame({f"{french.capital(d.dataset.words[0])} réelle": [shown[i] for i, _ in order],
                          "Prédite": [shown[j] for _, j in order]})
    for name in d.optimizers:
        frame[d.label(name)] = french.counts([per_optimizer[name][i, j] for i, j in order])
    return Table(frame, "ll" + "r" * len(d.optimizers), [4, 4] + [2] * len(d.optimizers))


def comparison_2023(d: ReportData) -> Table:
    """Our accuracy and time next to the 2023 single runs."""
    rows = []
    for name, old in d.old["optimizers"].items():
        present = name in d.optimizers and not d.summary.empty
        s = d.row(name) if present else None
        rows.append({"Optimiseur": d.label(name), "Exact. 2023": french.percent(old["accuracy"], 0),
                     "Époques 2023": str(old["epochs"]),
                     "Exact. ici": french.percent(s.test_accuracy_mean) if present else "n.d.",
                     "Époques ici": french.counts([s.epochs_run])[0] if present else "n.d."})
    return Table(pd.DataFrame(rows), widths=[3, 2, 2, 2, 2])


# ---------------------------------------------------------------------------------- robustness
def robustness(d: ReportData) -> Table:
    rows = []
    for row in d.summary.itertuples():
        rows.append({"Optimiseur": d.label(row.optimizer), "Graines": str(row.n_seeds),
                     "Exactitude": pm(row.test_accuracy_mean, row.test_accuracy_sd),
                     "IC 95 %": interval(row.test_accuracy_ci_low, row.test_accuracy_ci_high),
                     "F1 macro": pm(row.test_macro_f1_mean, row.test_macro_f1_sd)})
    return Table(pd.DataFrame(rows), widths=[3, 2, 4, 5, 4]) if rows else _empty("aucun résultat")


def mcnemar(row: dict) -> str:
    """The per-seed McNemar tests in one cell: seeds with p < 0.05 out of all, and their p."""
    seeds = f"{row['significant_seeds']} sur {row['n_seeds']}"
    low, high = p_value(row["p_mcnemar_min"]), p_value(row["p_mcnemar_max"])
    if row["n_seeds"] == 1:
        return f"{seeds} ; p\u00a0=\u00a0{low}"
    if low == high:
        return f"{seeds} ; p\u00a0=\u00a0{low} pour chacune"
    return f"{seeds} ; p de {low} à {high}"


def pairs(d: ReportData, which: str = "head") -> Table:
    """The paired comparisons: "focus − rival" first (with Holm-adjusted p), then rival − rival for
    information; every difference written in the order of its pair."""
    if not d.compared or d.paired(which).empty:
        return _empty("aucune comparaison appariée" if not d.compared else
                      "tests appariés absents : relancer `lionpoc study`")
    rows = findings.focus_pairs(d, which)
    others = [findings.pair(d, a, b, which) for i, a in enumerate(d.rivals) for b in d.rivals[i + 1:]]
    rows += [r for r in others if r is not None]
    both = french.counts([r["only_a_mean"] for r in rows] + [r["only_b_mean"] for r in rows])
    out = []
    for i, row in enumerate(rows):
        out.append({"Paire": f"{d.label(row['a'])} − {d.label(row['b'])}",
                    "Écart": french.points(row["diff_accuracy"]),
                    "IC images": interval(row["ci_low"], row["ci_high"], points=True),
                    "IC graines et images": interval(*findings.bounds(row), points=True)
                    if findings.seed_aware(row) else "—",
                    "p": p_value(row["p_value"]),
                    "Holm": p_value(row["p_adjusted"]) if "p_adjusted" in row else "—",
                    "Discordantes": f"{both[i]} / {both[len(rows) + i]}",
                    "McNemar": mcnemar(row)})
    return Table(pd.DataFrame(out), "lrrrrrrr", [4, 3, 3, 3, 2, 2, 3, 6])


def time_to_accuracy(d: ReportData, which: str = "head") -> Table:
    """Epochs to the common targets (per seed, a fraction of the best validation accuracy of any
    optimizer), with how many seeds reached them; seconds from the per-epoch time measured alone (the caption
    is the .qmd's)."""
    table = d.time_to_accuracy if which == "head" else d.fine_tune_time
    if table.empty or "target_95" not in table.columns:
        return _empty("aucun résultat, ou un tableau d'une version antérieure : relancer `lionpoc study`")
    table = table[table.optimizer.isin(d.optimizers)]
    samples = findings.timing_samples(d) if which == "head" else {}
    per_epoch = {name: float(np.median(v)) for name, v in samples.items()}
    frame = pd.DataFrame({"Optimiseur": [d.label(n) for n in table.optimizer]})
    for tag in (95, 99):
        epochs = french.counts(table[f"epochs_to_{tag}"])
        frame[f"Ép. {tag} %"] = [e if r == n else ("jamais" if r == 0 else f"{e} ({int(r)}/{int(n)})")
                                 for e, r, n in zip(epochs, table[f"reached_{tag}"], table["n_seeds"])]
    if per_epoch:
        frame["Époque seule"] = french.durations([per_epoch.get(n, math.nan) for n in table.optimizer])
        for tag in (95, 99):
            spent = french.durations([per_epoch.get(n, math.nan) * e for n, e in
                                      zip(table.optimizer, table[f"epochs_to_{tag}"])])
            frame[f"Temps {tag} %"] = [v if v != "n.d." else "—" for v in spent]
    else:
        frame["Par époque (étude)"] = french.durations(table.seconds_per_epoch)
    return Table(frame, widths=[3] + [2] * (len(frame.columns) - 1))


def _model(d: ReportData, model: str) -> str:
    """``Tête seule``, ``Xception complet``: the rows of the memory table (a backbone named by its registry)."""
    if model == "head":
        return "Tête seule"
    if model == d.backbone:
        return f"{d.backbone_label} complet"
    try:
        return f"{backbones.spec(model).label} complet"
    except Exception:  # a backbone the registry no longer knows
        return f"{model} complet"


def memory(d: ReportData) -> Table:
    if d.memory.empty:
        return _empty("memory.csv absent : relancer `lionpoc study`")
    rows = []
    for row in d.memory[d.memory["optimizer"].isin(d.optimizers)].itertuples():
        rows.append({"Modèle": _model(d, row.model), "Optimiseur": d.label(row.optimizer),
                     "Paramètres": french.integer(row.parameters), "État": french.bytes_(row.state_bytes),
                     "Tenseurs": french.number(row.slots_per_weight, 0)})
    return Table(pd.DataFrame(rows), widths=[4, 3, 3, 3, 2])


# ---------------------------------------------------------------------------------- performance
def performance(d: ReportData) -> Table:
    """The study's own timings (``study.json``): each step, with the 2023 total for comparison."""
    s = d.study
    if not s:
        return _empty("study.json absent : relancer `lionpoc study`")
    if s.get("features_from_cache"):  # the pass ran in an earlier study: only reading the cache counts here
        rows = [("Caractéristiques lues dans le cache", french.seconds(s["features_seconds"]))]
    else:
        rows = [(f"Passage de {d.backbone_label} sur les images",
                 french.seconds(s["features_extraction_seconds"]))]
    for e in s.get("executions", []):
        rows.append((f"Carnet {d.label(e['optimizer'])} ({french.plural(len(e['seeds']), 'graine')})",
                     french.seconds(e["seconds"])))
    if s.get("executions"):
        rows.append((f"Entraînements, en temps écoulé ({s.get('jobs', 1)} à la fois)",
                     french.seconds(s["trainings_seconds"])))
    rows.append(("Tableaux, mémoire, référence", french.seconds(s["aggregate_seconds"])))
    if s.get("render_seconds"):
        rows.append(("Rendu du rapport (à la fin de l’étude)", french.seconds(s["render_seconds"])))
    rows.append(("**Étude complète**", f"**{french.seconds(s['total_seconds'])}**"))
    return Table(pd.DataFrame(rows, columns=["Étape", "Durée"]), "lr", [5, 2])


def benchmark(d: ReportData) -> Table:
    if d.benchmark is None:
        return _empty("benchmark.json absent : lancer `lionpoc bench`")
    rows = [{"Modèle": _model(d, o["model"]),
             "Optimiseur": d.label(o["optimizer"]), "Lot": str(o["batch"]),
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
        rows.append({"Optimiseur": d.label(row.optimizer), "Tête seule": french.percent(row.before_mean),
                     "IC 95 % avant": interval(row.before_ci_low, row.before_ci_high),
                     "Après": french.percent(row.after_mean),
                     "IC 95 % après": interval(row.after_ci_low, row.after_ci_high),
                     "Écart": french.points(row.after_mean - row.before_mean),
                     "Taux η": fine_tune_rates(d, row.optimizer)})
    return Table(pd.DataFrame(rows), "lrrrrrl", [3, 2, 4, 2, 4, 3, 5]).captioned(
        f"Exactitude sur le test avant (tête seule) et après l'ajustement fin de {d.fine_tune_part}, en moyenne sur "
        f"les graines, avec les intervalles à 95 % (bootstrap sur les images de test), l'écart en points et le taux "
        f"d'apprentissage retenu sur la validation par chaque graine (avec, quand elles diffèrent, le nombre de "
        f"graines qui ont retenu chacun).", "tbl-ajustement")


def fine_tune_rates(d: ReportData, optimizer: str) -> str:
    """``10⁻⁴``, or ``10⁻⁴ (2×) ; 10⁻⁵ (1×)`` when the seeds chose different rates: each rate chosen on validation,
    with how many seeds chose it (``ReportData.chosen_fine_tune_rates``); never one rate standing for seeds that
    chose others."""
    chosen = d.chosen_fine_tune_rates(optimizer)
    if len(chosen) <= 1:
        return " ; ".join(french.scientific(r) for r in chosen.index) or "n.d."
    return " ; ".join(f"{french.scientific(r)}{french.NBSP}({n}×)" for r, n in chosen.items())  # one piece per rate


def fine_tune_costs(d: ReportData) -> Table | None:
    """Seconds per epoch, epochs, optimizer state for the fine-tuned weights and peak memory."""
    if d.fine_tune.empty:
        return None
    rows = []
    for row in d.fine_tune.itertuples():
        rows.append({"Optimiseur": d.label(row.optimizer), "Par époque": french.seconds(row.seconds_per_epoch),
                     "Époques": french.number(row.epochs_run, 1 if row.n_seeds > 1 else 0),
                     "Paramètres": french.integer(row.trainable_parameters),
                     "État": french.bytes_(row.state_bytes), "Pic mémoire": french.bytes_(row.peak_memory_bytes)})
    return Table(pd.DataFrame(rows), widths=[3, 2, 2, 3, 2, 3])
