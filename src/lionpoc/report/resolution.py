"""What the paired comparisons cover and could detect, and how the optimizers differ in loss and calibration.

Views over the study's saved tables (``pairs.csv``, ``calibration.csv``, ``calibration_pairs.csv``): the three
intervals of each focus − rival difference, the minimum detectable difference, the resolution of the exact test, the
seeds a 1-point difference would need, and the test loss and calibration error. They compute nothing: every number
is the study's. The sentences around them are ``report/index.qmd``'s (Robustesse), chosen by the regime's flags
(``seed_intervals``, ``two_stage_power``, ``seed_weight_*``, ``calibration``); what is left here are the lists of
values, one item per rival or optimizer, and the sentences said only of some rivals.
"""
from __future__ import annotations

import math

from lionpoc.report import french
from lionpoc.report.data import ReportData
from lionpoc.report import findings
from lionpoc.report.findings import ALPHA, recorded_focus_rows, two_stage_power
from lionpoc.report.markup import Text


def _focus_rows(d: ReportData, table: str = "pairs.csv", metric: str | None = None) -> list[dict]:
    return recorded_focus_rows(d, table, metric)


def _interval(low: float, high: float, points: bool = True) -> str:
    if points:
        return f"[{french.bound_points(low)}{french.NNBSP};{french.NNBSP}{french.bound_points(high)}]"
    return f"[{french.number(low, 3)}{french.NNBSP};{french.NNBSP}{french.number(high, 3)}]"


def _unsigned(x: float) -> str:
    """``1,3 point``: a size, not a signed difference."""
    return f"{french.number(100 * abs(x), 1)}{french.NNBSP}{french.point_word(x)}"


def _seeds(rows: list[dict]) -> int:
    return int(rows[0]["n_seeds"]) if rows else 0


# ---------------------------------------------------------------------------------- the intervals
def level(d: ReportData) -> Text:
    """``95 %``: the level of the intervals as the study saved them."""
    rows = _focus_rows(d)
    return Text(french.percent(float(rows[0]["level"]), 0) if rows else "")


def interval_list(d: ReportData) -> Text:
    """``Lion − Adam, +0,6 point : [−1,5 ; 2,8] sur les images de test, […] sur les graines, […] sur les deux ; …``
    (the test images' interval alone with one seed)."""
    rows = _focus_rows(d)
    parts = []
    for r in rows:
        head = f"{d.label(d.focus)} − {d.label(r['b'])}, {french.points(r['diff_accuracy'])} : "
        if _seeds(rows) > 1:
            parts.append(f"{head}{_interval(r['ci_low'], r['ci_high'])} sur les images de test, "
                         f"{_interval(r['seed_ci_low'], r['seed_ci_high'])} sur les graines, "
                         f"{_interval(r['ci2_low'], r['ci2_high'])} sur les deux")
        else:
            parts.append(f"{head}{_interval(r['ci_low'], r['ci_high'])}")
    return Text(" ; ".join(parts))


def joint_level(d: ReportData) -> Text:
    """``98,3 %``: the level of each two-stage interval when every rival is spoken of at once (Bonferroni)."""
    rows = _focus_rows(d)
    return Text(french.percent(float(rows[0]["joint_level"]), 1) if rows else "")


def joint_list(d: ReportData) -> Text:
    rows = _focus_rows(d)
    return Text(french.enumeration(f"{_interval(r['ci2_joint_low'], r['ci2_joint_high'])} face à {d.label(r['b'])}"
                                   for r in rows))


def seed_tests(d: ReportData) -> Text:
    """The seed-level test, Holm-adjusted as saved: ``… donne, pour information, p = 0,245 face à Adam et …``."""
    rows = [r for r in findings.focus_pairs(d) if not math.isnan(findings.seed_p(r))]
    if not rows:
        return Text("")
    holm = ", p ajusté par la méthode de Holm" if len(d.rivals) > 1 else ""
    values = french.enumeration(f"p = {french.number(findings.seed_p(r), 3)} face à {d.label(r['b'])}" for r in rows)
    return Text(french.sentence(f"Le test sur les graines (test t de Student sur l'écart de chaque graine{holm}) "
                                f"donne, pour information, {values}"))


def joint_caveat(d: ReportData) -> Text:
    """For each significant comparison whose joint interval reaches zero: a sentence saying that it holds
    comparison by comparison (and by Holm's tests), not by the joint intervals alone."""
    rows = [r for r in findings.focus_pairs(d) if findings.verdict(r) == findings.Verdict.SIGNIFICANT]
    touching = [r for r in rows if len(d.rivals) > 1 and findings.seed_aware(r)
                and not math.isnan(float(r.get("ci2_joint_low", math.nan)))
                and float(r["ci2_joint_low"]) <= 0 <= float(r["ci2_joint_high"])]
    if not touching:
        return Text("")
    names = french.enumeration([d.label(r["b"]) for r in touching])
    return Text(french.sentence(
        f"L'intervalle simultané face à {names} contient zéro : l'écart y est significatif par le test exact ajusté "
        f"par Holm et par son intervalle à {level(d)} pris isolément, "
        f"mais pas par les intervalles simultanés"))


def seed_influence(d: ReportData) -> Text:
    """For each significant comparison, how much it owes to its most influential seed: the mean difference
    without that seed and the median of the per-seed differences (three seeds at least)."""
    text = []
    for i in findings.influential_seeds(d):
        r, seed = i["pair"], i["seed"]
        text.append(french.sentence(
            f"Face à {d.label(r['b'])}, la graine qui pèse le plus sur l'écart est la graine {seed} "
            f"(l'écart y vaut {french.points(i['in_seed'])}) : sans elle, l'écart moyen vaudrait "
            f"{french.points(i['without'])} ; la médiane des écarts par graine vaut {french.points(i['median'])}"))
        text.append(_odd_choice(d, r["b"] if i["in_seed"] * r["diff_accuracy"] > 0 else r["a"], seed))
    return Text(" ".join(t for t in text if t))


def carrying(d: ReportData, what: str) -> Text:
    """Page 1's words on the one significant comparison's weightiest seed: ``rival`` (its name), ``seed``,
    ``without`` (the mean difference without that seed, in points), ``with`` (the mean with every seed)."""
    found = findings.influential_seeds(d)
    if len(found) != 1:
        return Text("n.d.")
    i = found[0]
    values = {"rival": d.label(i["pair"]["b"]), "seed": str(i["seed"]), "without": french.points(i["without"]),
              "with": french.points(i["pair"]["diff_accuracy"])}
    return Text(values[what])


def _odd_choice(d: ReportData, name: str, seed) -> str:
    """When ``name``'s configuration chosen in ``seed`` has a validation loss more than twice that of its other
    seeds' choices: a sentence saying so (the accuracy-first selection rule let it through)."""
    runs = d.runs
    if "val_loss" not in runs:
        return ""
    mine = runs[runs["optimizer"] == name].set_index("seed")["val_loss"].astype(float)
    if seed not in mine.index or len(mine) < 3:
        return ""
    others = mine.drop(seed)
    if not mine[seed] > 2 * others.max():
        return ""
    return french.sentence(
        f"Dans cette graine, {d.label(name)} a retenu une configuration à forte perte de validation "
        f"({french.number(mine[seed], 2)}, au plus {french.number(others.max(), 2)} dans ses autres graines), "
        f"retenue pour son exactitude de validation")


# ---------------------------------------------------------------------------------- what could be detected
def seeds_words(d: ReportData) -> Text:
    """``une seule graine``, ``5 graines``: the seeds of the comparisons."""
    n = _seeds(_focus_rows(d))
    return Text("une seule graine" if n == 1 else french.plural(n, "graine"))


def test_images(d: ReportData) -> Text:
    rows = _focus_rows(d)
    return Text(french.integer(int(rows[0]["n_test"])) if rows else "")


def mdd_list(d: ReportData) -> Text:
    """``de 2,1 points face à Adam et de 3,0 points face à AdamW``: the minimum detectable difference at 80 % power."""
    rows = _focus_rows(d)
    key = "mdd" if two_stage_power(rows) else "mdd_images"
    return Text(french.enumeration(f"de {_unsigned(r[key])} face à {d.label(r['b'])}" for r in rows))


def mdd_threshold(d: ReportData) -> Text:
    """``5 %``, or ``2,5 %, le seuil que la méthode de Holm applique au plus petit des 2 p``: the level of the MDD."""
    rows = _focus_rows(d)
    alpha = float(rows[0].get("mdd_alpha", ALPHA)) if rows else ALPHA
    if math.isnan(alpha) or alpha >= ALPHA:
        return Text(french.percent(ALPHA, 0))
    return Text(f"{french.percent(alpha, 1)}, le seuil que la méthode de Holm applique au plus petit des "
                f"{french.integer(len(rows))} p")


def discordant_list(d: ReportData) -> Text:
    """``152 face à Adam et 148 face à AdamW``: the test images where the two optimizers differ, every seed counted."""
    return Text(french.enumeration(f"{french.integer(r['n_discordant'])} face à {d.label(r['b'])}"
                                   for r in _focus_rows(d)))


def blind(d: ReportData) -> Text:
    """A sentence for each comparison that the exact test could never call significant (its smallest p too large)."""
    return Text(" ".join(french.sentence(
        f"Face à {d.label(r['b'])}, le plus petit p que ce test puisse atteindre vaut "
        f"{french.number(r['p_min'], 3)} : cette comparaison ne pouvait pas être significative")
        for r in _focus_rows(d) if r["p_min"] >= ALPHA))


def seeds_needed(d: ReportData) -> Text:
    """The seeds a 1-point difference would need, rival by rival, and the rivals for which no number would do."""
    rows = _focus_rows(d)
    if not two_stage_power(rows):
        return Text("")
    need = [r for r in rows if not math.isnan(r["seeds_for_1_point"])]
    out = [r for r in rows if math.isnan(r["seeds_for_1_point"])]
    text = []
    if need:
        text.append(french.sentence("Détecter de même un écart de 1 point demanderait environ " + french.enumeration(
            f"{french.plural(int(r['seeds_for_1_point']), 'graine')} face à {d.label(r['b'])}" for r in need)))
    if out:
        text.append(french.sentence(
            f"Face à {french.enumeration([d.label(r['b']) for r in out])}, aucun nombre de graines n'y suffirait "
            f"avec ces {french.integer(int(rows[0]['n_test']))} images de test"))
    return Text(" ".join(text))


# ---------------------------------------------------------------------------------- seeds against test images
def seed_widths(d: ReportData) -> Text:
    """``face à Adam, 1,2 sur les graines contre 3,4 sur les images de test et 4,0 sur les deux ; …`` (in points)."""
    def width(r: dict, kind: str) -> str:
        return french.number(100 * float(r[f"{kind}_high"] - r[f"{kind}_low"]), 1)

    return Text(" ; ".join(f"face à {d.label(r['b'])}, {width(r, 'seed_ci')} sur les graines contre "
                           f"{width(r, 'ci')} sur les images de test et {width(r, 'ci2')} sur les deux"
                           for r in _focus_rows(d)))


# ---------------------------------------------------------------------------------- loss and calibration
def _calibration(d: ReportData):
    table = d.table("calibration.csv")
    if table.empty or table["nll_mean"].isna().all():
        return None
    return table.set_index("optimizer")


def losses(d: ReportData) -> Text:
    """``Adam 0,412 [0,398 ; 0,427], …``: the mean test loss of each optimizer with its interval."""
    table = _calibration(d)
    if table is None:
        return Text("")
    return Text(french.enumeration(
        f"{d.label(n)} {french.number(table.loc[n, 'nll_mean'], 3)} "
        f"{_interval(table.loc[n, 'nll_ci_low'], table.loc[n, 'nll_ci_high'], points=False)}"
        for n in d.optimizers if n in table.index))


def eces(d: ReportData) -> Text:
    table = _calibration(d)
    if table is None:
        return Text("")
    def one(n) -> str:
        low, high = table.loc[n, "ece_ci_low"], table.loc[n, "ece_ci_high"]
        ci = ("" if math.isnan(float(low)) else
              f" [{french.percent(low, 1)}{french.NNBSP};{french.NNBSP}{french.percent(high, 1)}]")
        return f"{d.label(n)} {french.percent(table.loc[n, 'ece_mean'], 1)}{ci}"
    return Text(french.enumeration(one(n) for n in d.optimizers if n in table.index))


def confidence(d: ReportData) -> Text:
    """Which way the heads are miscalibrated: their mean confidence against their accuracy, when every optimizer
    errs the same way (all under- or all over-confident)."""
    table = _calibration(d)
    if table is None or "confidence_mean" not in table.columns:
        return Text("")
    names = [n for n in d.optimizers if n in table.index]
    gaps = [float(table.loc[n, "confidence_mean"] - table.loc[n, "accuracy_mean"]) for n in names]
    if not names or not (all(g < 0 for g in gaps) or all(g > 0 for g in gaps)):
        return Text("")
    way = "sous-confiantes : leur confiance moyenne reste sous" if gaps[0] < 0 else \
        "surconfiantes : leur confiance moyenne dépasse"
    values = french.enumeration(f"{d.label(n)} {french.percent(table.loc[n, 'confidence_mean'], 1)} contre "
                                f"{french.percent(table.loc[n, 'accuracy_mean'], 1)}" for n in names)
    return Text(french.sentence(f"En moyenne sur leurs graines, les têtes de chaque optimiseur sont {way} leur "
                                f"exactitude ({values})"))


def bins(d: ReportData) -> Text:
    table = _calibration(d)
    return Text(french.integer(table["bins"].iloc[0]) if table is not None else "")


def loss_gaps(d: ReportData) -> Text:
    """A sentence for each rival whose test loss differs from the focus's while their accuracy does not."""
    table = _calibration(d)
    if table is None:
        return Text("")
    seeds = int(table["n_seeds"].iloc[0])
    accuracy = {r["b"]: r for r in _focus_rows(d)}
    text = []
    for r in _focus_rows(d, "calibration_pairs.csv", "nll"):
        acc = accuracy.get(r["b"])
        low, high = (r["ci2_low"], r["ci2_high"]) if seeds > 1 else (r["ci_low"], r["ci_high"])
        acc_low, acc_high = ((acc["ci2_low"], acc["ci2_high"]) if seeds > 1 else (acc["ci_low"], acc["ci_high"])) \
            if acc else (math.nan, math.nan)
        if not (low <= 0 <= high) and acc_low <= 0 <= acc_high:
            how = "plus basse" if r["diff"] < 0 else "plus haute"
            text.append(french.sentence(
                f"Face à {d.label(r['b'])}, {d.label(d.focus)} a une perte {how} ({french.number(r['diff'], 3)} "
                f"{_interval(low, high, points=False)}) sans que leur exactitude diffère : les deux optimiseurs ne se "
                "séparent que par la confiance de leurs prédictions, que règlent surtout leurs régularisations"))
    return Text(" ".join(text))
