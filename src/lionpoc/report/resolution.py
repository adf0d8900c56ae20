"""What the paired comparisons cover and could detect, and how the optimizers differ in loss and calibration.

Views over the study's saved tables (``pairs.csv``, ``calibration.csv``, ``calibration_pairs.csv``): the three
intervals of each focus − rival difference with what each lets vary, the minimum detectable difference, the
resolution of the exact test, the seeds a 1-point difference would need, and the test loss and calibration
error. They compute nothing: every number is the study's.
"""
from __future__ import annotations

import math

from lionpoc.report import french
from lionpoc.report.data import ReportData
from lionpoc.report.markup import Text

ALPHA = 0.05


def _focus_rows(d: ReportData, table: str = "pairs.csv", metric: str | None = None) -> list[dict]:
    """The focus's comparisons, oriented focus − rival as the study saved them, in the rivals' order."""
    frame = d.table(table)
    if frame.empty or not d.compared or "family" not in frame.columns:
        return []
    rows = frame[(frame["family"] == "focus") & (frame["a"] == d.focus)]
    if metric is not None:
        rows = rows[rows["metric"] == metric]
    by_rival = {r["b"]: r for r in rows.to_dict("records")}
    return [by_rival[r] for r in d.rivals if r in by_rival]


def _interval(low: float, high: float, points: bool = True, digits: int = 1) -> str:
    if points:
        return f"[{french.number(100 * low, digits)}{french.NNBSP};{french.NNBSP}{french.number(100 * high, digits)}]"
    return f"[{french.number(low, 3)}{french.NNBSP};{french.NNBSP}{french.number(high, 3)}]"


def _unsigned(x: float) -> str:
    """``1,3 point``: a size, not a signed difference."""
    return f"{french.number(100 * abs(x), 1)}{french.NNBSP}{french.point_word(x)}"


def intervals(d: ReportData) -> Text:
    """The three intervals of each focus − rival accuracy difference, each named by what it lets vary, and the
    joint ones when the focus has several rivals."""
    rows = _focus_rows(d)
    if not rows:
        return Text("")
    seeds = int(rows[0]["n_seeds"])
    parts = []
    for r in rows:
        name = f"{d.label(d.focus)} − {d.label(r['b'])}"
        if seeds > 1:
            parts.append(f"{name}, {french.points(r['diff_accuracy'])} : {_interval(r['ci_low'], r['ci_high'])} "
                         f"sur les images de test, {_interval(r['seed_ci_low'], r['seed_ci_high'])} sur les graines, "
                         f"{_interval(r['ci2_low'], r['ci2_high'])} sur les deux")
        else:
            parts.append(f"{name}, {french.points(r['diff_accuracy'])} : {_interval(r['ci_low'], r['ci_high'])}")
    level = french.percent(float(rows[0]["level"]), 0)
    if seeds < 2:
        return Text(french.typeset(french.sentence(
            f"Avec une seule graine, seul l'intervalle sur les images de test existe (à {level}, en points) :",
            " ; ".join(parts)) + " Il tient les têtes entraînées pour fixes : la part du hasard des graines "
            "n'y est pas."))
    text = french.sentence(
        f"Chaque écart a trois intervalles à {level} (en points), selon ce qu'ils laissent varier : les images de "
        "test, les têtes entraînées restant fixes ; les graines, les images de test restant fixes ; les deux à la "
        "fois, par un bootstrap à deux étages qui tire les graines puis les images de test. Le dernier est celui "
        "qui vaut pour une autre étude, qui changerait à la fois les graines et les images de test :", " ; ".join(parts))
    if len(rows) > 1:
        joint = french.percent(float(rows[0]["joint_level"]), 1)
        bounds = french.enumeration(f"{_interval(r['ci2_joint_low'], r['ci2_joint_high'])} face à {d.label(r['b'])}"
                                    for r in rows)
        text += " " + french.sentence(
            f"Pour parler de tous les rivaux à la fois, chaque intervalle sur les graines et les images est pris à "
            f"{joint} (correction de Bonferroni), ce qui les tient tous ensemble à {level} au moins : {bounds}")
    return Text(french.typeset(text))


def detectable(d: ReportData) -> Text:
    """What the study could have detected: the minimum detectable difference at 80 % power, the exact test's
    resolution, and the seeds a 1-point difference would need."""
    rows = _focus_rows(d)
    if not rows:
        return Text("")
    seeds, images = int(rows[0]["n_seeds"]), int(rows[0]["n_test"])
    two_stage = seeds > 1 and all(not math.isnan(r["mdd"]) for r in rows)
    key = "mdd" if two_stage else "mdd_images"
    sizes = french.enumeration(f"de {_unsigned(r[key])} face à {d.label(r['b'])}" for r in rows)
    what = ("la variance des graines et celle des images de test comprises" if two_stage else
            "la seule variance des images de test, une graine ne disant rien de celle des graines")
    text = french.sentence(
        f"Avec {'une seule graine' if seeds == 1 else french.plural(seeds, 'graine')} et {french.integer(images)} "
        f"images de test, un écart vrai "
        f"d'exactitude {sizes} serait jugé significatif quatre fois sur cinq (puissance de 80 % au seuil de "
        f"{french.percent(ALPHA, 0)}, {what})")
    blind = [r for r in rows if r["p_min"] >= ALPHA]
    counts = french.enumeration(f"{french.integer(r['n_discordant'])} face à {d.label(r['b'])}" for r in rows)
    text += " " + french.sentence(
        f"Seules comptent pour le test exact les images de test où les deux optimiseurs diffèrent, toutes graines "
        f"comptées : {counts}")
    for r in blind:
        text += " " + french.sentence(
            f"Face à {d.label(r['b'])}, le plus petit p que ce test puisse atteindre vaut "
            f"{french.number(r['p_min'], 3)} : cette comparaison ne pouvait pas être significative")
    if two_stage:
        need = [r for r in rows if not math.isnan(r["seeds_for_1_point"])]
        out = [r for r in rows if math.isnan(r["seeds_for_1_point"])]
        if need:
            text += " " + french.sentence(
                "Détecter de même un écart de 1 point demanderait environ " + french.enumeration(
                    f"{french.plural(int(r['seeds_for_1_point']), 'graine')} face à {d.label(r['b'])}" for r in need))
        if out:
            text += " " + french.sentence(
                f"Face à {french.enumeration([d.label(r['b']) for r in out])}, aucun nombre de graines n'y suffirait "
                f"avec ces {french.integer(images)} images de test")
    return Text(french.typeset(text))


def loss_calibration(d: ReportData) -> Text:
    """Test loss (mean negative log-likelihood) and calibration error per optimizer, and the focus's paired
    differences in loss; says when the loss differs where the accuracy does not."""
    table = d.table("calibration.csv")
    if table.empty or table["nll_mean"].isna().all():
        return Text("")
    table = table.set_index("optimizer")
    names = [n for n in d.optimizers if n in table.index]
    level = french.percent(0.95, 0)
    losses = french.enumeration(
        f"{d.label(n)} {french.number(table.loc[n, 'nll_mean'], 3)} "
        f"{_interval(table.loc[n, 'nll_ci_low'], table.loc[n, 'nll_ci_high'], points=False)}" for n in names)
    eces = french.enumeration(
        f"{d.label(n)} {french.percent(table.loc[n, 'ece_mean'], 1)}" for n in names)
    seeds = int(table["n_seeds"].iloc[0])
    over = "sur les graines et les images de test" if seeds > 1 else "sur les images de test"
    text = french.sentence(
        f"L'exactitude ne dit pas tout : la perte de test (log-vraisemblance négative moyenne, intervalle à {level} "
        f"{over}) vaut {losses} ; l'erreur de calibration (ECE, {french.integer(table['bins'].iloc[0])} classes de "
        f"confiance) vaut {eces}")
    accuracy = {r["b"]: r for r in _focus_rows(d)}
    differs = []
    for r in _focus_rows(d, "calibration_pairs.csv", "nll"):
        acc = accuracy.get(r["b"])
        low, high = (r["ci2_low"], r["ci2_high"]) if seeds > 1 else (r["ci_low"], r["ci_high"])
        acc_low, acc_high = ((acc["ci2_low"], acc["ci2_high"]) if seeds > 1 else (acc["ci_low"], acc["ci_high"])) \
            if acc else (math.nan, math.nan)
        if not (low <= 0 <= high) and acc_low <= 0 <= acc_high:
            differs.append((r, "plus basse" if r["diff"] < 0 else "plus haute", (low, high)))
    for r, how, (low, high) in differs:
        text += " " + french.sentence(
            f"Face à {d.label(r['b'])}, {d.label(d.focus)} a une perte {how} ({french.number(r['diff'], 3)} "
            f"{_interval(low, high, points=False)}) sans que leur exactitude diffère : les deux optimiseurs ne se "
            "séparent que par la confiance de leurs prédictions, que règlent surtout leurs régularisations")
    return Text(french.typeset(text))


def seed_share(d: ReportData) -> Text:
    """How much the seeds weigh against the test images in each focus − rival difference: the width of the interval
    that lets only the seeds vary against the one that lets only the test images vary, and the two-stage one."""
    rows = _focus_rows(d)
    if not rows:
        return Text("")
    seeds = int(rows[0]["n_seeds"])
    if seeds < 2 or any(math.isnan(float(r.get("seed_ci_low", math.nan))) for r in rows):
        return Text(french.typeset(
            "Avec une seule graine, la part du hasard qui vient des graines (initialisation, ordre des lots, "
            "*dropout*, choix de la configuration) n'est pas mesurée : les intervalles de ce rapport la laissent "
            "de côté."))

    def width(r: dict, kind: str) -> float:
        return float(r[f"{kind}_high"] - r[f"{kind}_low"])

    ratio = sum(width(r, "seed_ci") / max(width(r, "ci"), 1e-12) for r in rows) / len(rows)
    weighs = ("compte à peu près autant que celle des images de test" if 2 / 3 <= ratio <= 3 / 2 else
              "compte davantage que celle des images de test" if ratio > 3 / 2 else
              "compte moins que celle des images de test, sans être négligeable" if ratio >= 1 / 3 else
              "compte peu à côté de celle des images de test")
    widths = " ; ".join(
        f"face à {d.label(r['b'])}, {french.number(100 * width(r, 'seed_ci'), 1)} sur les graines contre "
        f"{french.number(100 * width(r, 'ci'), 1)} sur les images de test et {french.number(100 * width(r, 'ci2'), 1)} "
        f"sur les deux" for r in rows)
    return Text(french.typeset(french.sentence(
        f"Dans les écarts {french.de(d.label(d.focus))} à ses rivaux, avec {french.plural(seeds, 'graine')}, la "
        f"variabilité entre graines {weighs} : largeur des intervalles à 95 % de l'écart, en points, {widths}") + " C'est pourquoi le résumé et le verdict retiennent l'intervalle sur les deux."))
