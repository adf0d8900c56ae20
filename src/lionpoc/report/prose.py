"""The report's sentences, assembled from the numbers by small named rules.

Each "number -> words" decision is one function with its threshold stated (``verdict``, ``faster``,
``decoding``, ``overfits``, ``collapsed``...): a sentence never says more than its number allows, and the
tests check every branch. No number is typed here: each comes from the results, the study's records
or a named constant with its source. Optimizers are named through ``d.label`` and counted from the
study's own list; the question is about ``d.focus`` against ``d.rivals``; every paired difference is
written "focus − rival", the same way in the abstract, the text, the tables and the figure.
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd

from lionpoc import project
from lionpoc.study import figures
from lionpoc.report import findings
from lionpoc.report import french
from lionpoc.report.findings import (ALPHA, CHANCE, LEVEL, OVERFIT, bounds, collapsed, covers,  # noqa: F401
                                     fine_tune_significant, focus_pairs, overfits, pair, seed_aware, separates, spreads,
                                     timing_samples, verdict)
from lionpoc.report.french import de, enumeration, equals, in_words, of, que, quoted, sentence  # noqa: F401
from lionpoc.report.data import ReportData
from lionpoc.report.markup import Text, code, code_block, escape
from lionpoc.report import sensitivity as report_sensitivity
from lionpoc.report.tables import interval, p_value

SAFE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")  # a registry name (optimizer, backbone), as parameter files require
LION_SMALL_BATCH = 64  # Chen et al. (2023), section 6: Lion's gain shrinks below this batch size


# ---------------------------------------------------------------------------------- rules


def faster(mine, theirs) -> str:
    """Is one optimizer's epoch faster than another's, given the spread of repeated timings?

    ``faster`` or ``slower`` only when the two ranges of the repeats (shortest to longest) do not overlap, the
    rule ``costs.csv`` records (``epoch_time_overlaps_focus``); otherwise ``same``: a difference of medians inside
    the spread is noise.
    """
    a_low, a_high = np.min(np.asarray(mine, float)), np.max(np.asarray(mine, float))
    b_low, b_high = np.min(np.asarray(theirs, float)), np.max(np.asarray(theirs, float))
    if a_high < b_low:
        return "faster"
    if a_low > b_high:
        return "slower"
    return "same"


def unsigned_points(x: float) -> str:
    """``0.028`` -> ``2,8 points``: the size of a bound, without its sign."""
    return f"{french.number(100 * abs(x), 1)}{french.NNBSP}{french.point_word(abs(x))}"


def exceeded_points(x: float) -> str:
    """The bound a significant difference exceeds: as ``unsigned_points``, except that a bound under a point that
    one decimal would round up (0,06 -> 0,1) keeps its second decimal: "dépasse 0,1 point" is never said of 0,06."""
    value = 100 * abs(x)
    if value < 1 and round(value, 1) > value:  # "dépasse 0,4 point" is never said of 0,38
        return f"{french.number(value, 2)}{french.NNBSP}{french.point_word(abs(x))}"
    return f"{french.bound_points(abs(x))}{french.NNBSP}{french.point_word(abs(x))}"


def beyond(kind: str, bound: float, whose: str = "") -> str:
    """``une avance de Lion de plus de 2,8 points``; a bound that rounds to zero excludes any ``kind``."""
    feminine = kind == "avance"  # une avance, un retard
    kind = f"{kind} {whose}".strip()
    if french.number(100 * abs(bound), 1) == french.number(0, 1):
        return f"{'toute' if feminine else 'tout'} {kind}"
    return f"{'une' if feminine else 'un'} {kind} de plus de {unsigned_points(bound)}"






# ---------------------------------------------------------------------------------- names
def focus(d: ReportData) -> str:
    return d.label(d.focus)


def rivals(d: ReportData) -> str:
    """``Adam et AdamW``: the rivals that ran, named."""
    return enumeration([d.label(r) for r in d.rivals])


def title(d: ReportData) -> str:
    """The report's title: the focus against the rivals that ran (or the focus alone)."""
    names = d.optimizers or d.planned
    main = d.focus if d.focus in names else names[0]
    others = [d.label(n) for n in names if n != main]
    head = f"{d.label(main)} face à {enumeration(others)}" if others else d.label(main)
    if not d.empty and (d.synthetic or not d.pretrained):  # a check of the chain: no transfer, no answer
        return f"{head} : vérification de la chaîne de traitement"
    return f"{head} pour l'apprentissage par transfert"


def subtitle(d: ReportData) -> str:
    if not d.stanford_dogs:
        return f"{d.backbone_label} et {data_set(d)} : une étude reproductible"
    return f"{d.backbone_label} et quinze races de chiens de Stanford Dogs : une étude reproductible"


def data_set(d: ReportData) -> str:
    """``le jeu d'images « Arbres » (trois classes)``: a data set other than the 15 breeds, named."""
    from lionpoc.report.values import Values

    return f"le {Values(d).data_set}"


# ---------------------------------------------------------------------------------- warnings
def results_folder(d: ReportData) -> Text:
    """The results folder, as inline code."""
    return Text(code(d.results_dir))


def weights_words(d: ReportData) -> Text:
    """``aux poids aléatoires`` or ``aux poids pré-entraînés``."""
    return Text("aux poids pré-entraînés" if d.pretrained else "aux poids aléatoires")


# ---------------------------------------------------------------------------------- numbers in the text
def count(d: ReportData, part: str | None = None) -> Text:
    rows = d.split if part is None or d.split.empty else d.split[d.split["split"] == part]
    return Text(french.integer(len(rows)))


def same_grid(d: ReportData) -> Text:
    """The grids as they are: 'des grilles de même forme (3 × 3 configurations), celle de Lion décalée…'."""
    return Text(report_sensitivity.same_grid(d))


def selection_rule(d: ReportData) -> Text:
    """'celle de plus haute exactitude de validation, départagée à égalité par la plus faible perte de validation'."""
    return Text(report_sensitivity.selection_rule(d))


def setting(d: ReportData, key: str) -> Text:
    """One protocol parameter of the study, in French (image size, epochs, patience, ...)."""
    if d.empty:
        return Text("n.d.")
    value = d.first()["params"][key]
    if key == "weights":
        learned = "ceux appris sur ImageNet, lus" if d.pretrained else "lus"
        return Text({"imagenet": "ceux appris sur ImageNet",
                     "none": "aléatoires (aucun pré-entraînement)"}.get(value, f"{learned} dans le fichier "
                                                                               f"{code(Path(value).name)}"))
    if isinstance(value, float):
        return Text(french.short(value))
    return Text(str(value))


def seeds(d: ReportData) -> Text:
    """``3 graines``: the most seeds any optimizer has."""
    return Text(french.plural(int(d.runs.groupby("optimizer").size().max()) if not d.empty else 0, "graine"))


def n_seeds(d: ReportData) -> int:
    return int(d.runs.groupby("optimizer").size().max()) if not d.empty else 0


def feature_time(d: ReportData) -> Text:
    """Time of the single pass of the frozen base over every image (shared by all runs)."""
    if d.empty:
        return Text("n.d.")
    return Text(french.seconds(float(d.first()["feature_seconds"])))


def metric(d: ReportData, optimizer: str, column: str = "test_accuracy_mean") -> Text:
    if optimizer not in d.optimizers or d.summary.empty:
        return Text("n.d.")
    return Text(french.percent(float(d.row(optimizer)[column])))


def confusions_caption(d: ReportData) -> str:
    """The frequent-confusions table's caption, for a data set other than the 15 breeds."""
    race = d.dataset.words[0]
    return (f"Confusions les plus fréquentes : nombre d'images de test d'une {race} réelle prédites comme une autre "
            f"{race}, en moyenne sur les graines, par optimiseur.")


def split_caption(d: ReportData) -> str:
    """The split table's caption for a data set other than the 15 breeds (a summary beyond 20 classes)."""
    race = d.dataset.words[0]
    if d.dataset.n_classes > findings.MANY_CLASSES:
        return (f"Nombre d'images par partie du découpage : pour la plus petite {race}, la médiane des "
                f"{d.dataset.words[1]}, la plus grande, et au total.")
    return f"Nombre d'images par {race} et par partie du découpage."


def memory_saving(d: ReportData) -> Text:
    """What the focus saves on the whole backbone's optimizer state, against the rivals' mean."""
    if d.memory.empty or not d.compared:
        return Text("")
    full = d.memory[d.memory["model"] != "head"]
    if full.empty:
        return Text("")
    state = full.set_index("optimizer")["state_bytes"]
    if d.focus not in state.index or not any(r in state.index for r in d.rivals):
        return Text("")
    present = [r for r in d.rivals if r in state.index]
    rest = float(np.mean([state[r] for r in present]))
    saving = rest - float(state[d.focus])
    which = "par rapport à " + (d.label(present[0]) if len(present) == 1 else "la moyenne de ses rivaux")
    words = (f"économise {french.bytes_(saving)} {which}" if saving > 0 else
             f"demande {french.bytes_(-saving)} de plus {which}" if saving < 0 else f"occupe autant {which}")
    return Text(f"Sur le réseau complet, {focus(d)} {words}.")


# ---------------------------------------------------------------------------------- paired comparisons


def difference(d: ReportData, p: dict, compact: bool = False) -> str:
    """``Lion − Adam = +0,6 point (IC 95 % [−1,5 ; 2,8] points, p ajusté = 0,642)``; compact:
    ``Lion − Adam : +0,6 [−1,5 ; 2,8], p = 0,642``."""
    low, high = bounds(p)
    ci = interval(low, high, points=True)
    unit = french.point_word(low, high)
    adjusted = "p ajusté" if len(d.rivals) > 1 else "p"
    if compact:
        return (f"{d.label(p['a'])} − {d.label(p['b'])} : {french.points(p['diff_accuracy'], unit=False)} "
                f"{ci}, {p_words(p.get('p_adjusted', p['p_value']))}")
    return (f"{d.label(p['a'])} − {d.label(p['b'])} = {french.points(p['diff_accuracy'])} "
            f"(IC {french.percent(LEVEL, 0)} {ci}{french.NNBSP}{unit}, "
            f"{equals(adjusted, p_value(p.get('p_adjusted', p['p_value'])))})")


def p_words(p: float, name: str = "p") -> str:
    """``p = 0,642``, or ``p < 0,001`` (not ``p = < 0,001``)."""
    value = p_value(p)
    return f"{name}{french.NBSP}{value}" if value.startswith("<") else equals(name, value)


def clause(d: ReportData, p: dict) -> str:
    """One sentence on one "focus − rival" comparison: what the data exclude first, then the verdict."""
    a, b = d.label(p["a"]), d.label(p["b"])
    low, high = bounds(p)
    level = french.percent(LEVEL, 0)
    if verdict(p) == "significant":
        if p["diff_accuracy"] > 0:
            return (f"{a} fait mieux {que(b)} : {difference(d, p)} ; à {level}, son avance dépasse "
                    f"{exceeded_points(low)}.")
        return (f"{a} fait moins bien {que(b)} : {difference(d, p)} ; à {level}, son retard dépasse "
                f"{exceeded_points(high)}.")
    if low <= 0 <= high:
        return (f"Face à {b}, les données excluent à {level} {beyond('avance', high, de(a))} et "
                f"{beyond('retard', low)} ; l'écart mesuré, {difference(d, p)}, reste dans le bruit.")
    return (f"Face à {b}, {difference(d, p)} : l'intervalle exclut zéro, mais le test de permutation apparié "
            f"ne conclut pas au seuil de {french.percent(ALPHA, 0)}.")


def paired_rows(d: ReportData, which: str = "head") -> tuple[list[dict], str | None]:
    """The focus's paired comparisons, or the sentence to say instead (no results, a single optimizer,
    tables missing)."""
    if d.empty:
        return [], ""
    if not d.compared:
        return [], alone(d)
    rows = focus_pairs(d, which)
    return rows, (None if rows else "Les tests appariés manquent : relancez `lionpoc study`.")


def answer(d: ReportData, which: str = "head") -> str:
    """The answer to the question, comparison by comparison (after the head, or after fine-tuning)."""
    rows, instead = paired_rows(d, which)
    if instead is not None:
        return instead
    text = " ".join(clause(d, p) for p in rows)
    if len(rows) > 1:
        text += (f" Les p des {in_words(len(rows))} comparaisons {de(focus(d))} à ses rivaux sont ajustés par la "
                 f"méthode de Holm.")
    return text


def short_answer(d: ReportData, which: str = "head", listed: bool = True, lead: str = "", brief: bool = False) -> Text:
    """The answer in two sentences: what the data exclude, which differences are significant, and every
    "focus − rival" difference in brackets (for the abstract and the conclusion). ``lead`` opens the first
    sentence (``Réponse à la question posée :``); the clauses keep their own case, a name its capital."""
    rows, instead = paired_rows(d, which)
    if instead is not None:
        return Text(sentence(lead, instead) if lead and instead else instead)
    level, f = french.percent(LEVEL, 0), focus(d)
    open_ = [p for p in rows if verdict(p) == "noise" and bounds(p)[0] <= 0 <= bounds(p)[1]]
    said = []
    for p in rows:
        low, high = bounds(p)
        if verdict(p) == "significant":
            better = p["diff_accuracy"] > 0
            joint_low, joint_high = bounds(p, joint=True)
            edge = (f" ; pris à {french.percent(p['joint_level'])} pour valoir sur tous ses rivaux à la fois, "
                    f"l'intervalle contient zéro : un écart à la limite" if len(rows) > 1 and seed_aware(p)
                    and joint_low <= 0 <= joint_high else "")
            seeds_p = findings.seed_p(p)
            if not math.isnan(seeds_p):
                edge += f" ; sur les graines, {p_words(seeds_p)}" + (" après ajustement de Holm" if len(rows) > 1 else "")
            said.append(f"{f} fait significativement {'mieux' if better else 'moins bien'} {que(d.label(p['b']))} "
                        f"(à {level}, son {'avance' if better else 'retard'} dépasse "
                        f"{exceeded_points(low if better else high)}{edge})")
        elif p not in open_:
            said.append(f"face à {d.label(p['b'])}, l'intervalle exclut zéro mais le test ne conclut pas "
                        f"({equals('p ajusté' if len(rows) > 1 else 'p', p_value(p['p_adjusted']))})")
    sentences = []
    if brief and open_ and not said:  # page 1's second answer: the verdict and what it could have detected
        return Text(" ".join(t for t in (sentence(lead, "aucun écart n'est significatif"),
                                         detectable_words(d, open_)) if t))
    if open_:
        together = len(open_) == len(rows) > 1
        high = max(bounds(p, joint=together)[1] for p in open_)
        low = min(bounds(p, joint=together)[0] for p in open_)
        aware = seed_aware(open_[0])
        against = (("face à chacun de ses rivaux" if aware else "face à chacun de ses rivaux, pris un à un")
                   if together else f"face à {enumeration([d.label(p['b']) for p in open_])}")
        confidence = (f"avec une confiance de {level} qui tient compte des graines comme des images de test"
                      if aware else
                      f"avec une confiance de {level} sur les seules images de test (une seule graine)")
        if together and aware:
            confidence += " et vaut pour tous les rivaux à la fois"
        excluded = (f"{confidence}, les données excluent {beyond('avance', high, de(f))} et "
                    f"{beyond('retard', low)} {against}")
        sentences.append(sentence(lead, excluded + ("" if said else " : aucun écart n'est significatif")))
        lead = ""
        sentences.append(detectable_words(d, open_))
    if said:
        sentences.append(sentence(lead, " ; ".join(said)))
    if listed:
        holm = ", ajustés par la méthode de Holm" if len(rows) > 1 else ""
        sentences.append(f"Écarts mesurés (en points ; intervalle à {level} sur {covers(rows[0])} ; p du test exact sur "
                         f"les images de test, les têtes entraînées restant fixes{holm}) : "
                         + " ; ".join(difference(d, p, compact=True) for p in rows) + ".")
    return Text(" ".join(t for t in sentences if t))


def detectable_words(d: ReportData, rows: list[dict]) -> str:
    """What the study could have detected where it found nothing: the minimum detectable difference at 80 % power
    of each comparison (seeds and test images, or test images alone with one seed), and the comparisons that the
    exact test could never call significant (its smallest reachable p above the threshold)."""
    if not rows or "mdd" not in rows[0]:
        return ""
    key = "mdd" if seed_aware(rows[0]) and not any(math.isnan(float(r["mdd"])) for r in rows) else "mdd_images"
    known = [r for r in rows if not math.isnan(float(r.get(key, math.nan)))]
    text = ""
    if known:
        seeds, images = int(rows[0]["n_seeds"]), int(rows[0]["n_test"])
        sizes = enumeration(f"{unsigned_points(r[key])} face à {d.label(r['b'])}" for r in known) \
            if len(known) > 1 or len(d.rivals) > 1 else unsigned_points(known[0][key])
        text = sentence(f"Avec {'une seule graine' if seeds == 1 else french.plural(seeds, 'graine')} et "
                        f"{french.integer(images)} images de test, l'étude ne pouvait détecter, quatre fois sur cinq, "
                        f"qu'un écart vrai d'au moins {sizes}")
    blind = [r for r in rows if float(r.get("p_min", 0.0)) >= ALPHA]
    for r in blind:
        text += " " + sentence(
            f"Face à {d.label(r['b'])}, trop peu d'images de test distinguent les deux optimiseurs pour que le test "
            f"exact puisse conclure : son plus petit p possible vaut {french.number(float(r['p_min']), 3)}, cette "
            f"comparaison ne pouvait pas être significative")
    return text.strip()


def alone(d: ReportData) -> str:
    """Why there is no paired comparison."""
    if len(d.optimizers) == 1:
        return (f"Cette étude n'a entraîné que {d.label(d.optimizers[0])} : sans second optimiseur, il n'y a "
                f"rien à comparer, et la partie appariée du rapport est absente.")
    return (f"Cette étude n'a pas entraîné {focus(d)}, l'optimiseur sur lequel porte la question : les "
            f"comparaisons appariées, qui l'opposent à chacun des autres, sont absentes.")


def ranking(d: ReportData) -> list[str]:
    return list(d.summary.sort_values("test_accuracy_mean", ascending=False)["optimizer"]) \
        if not d.summary.empty else []


# ---------------------------------------------------------------------------------- abstract and conclusion
def fine_tune_abstract(d: ReportData) -> Text:
    """The abstract's sentence on fine-tuning, when it worked (``index.qmd`` says when every optimizer collapsed)."""
    if d.fine_tune.empty:
        return Text("")
    f = d.fine_tune.set_index("optimizer")
    if all(collapsed(v, d.dataset.n_classes) for v in f["after_mean"]):
        return Text("")
    scores = " ; ".join(f"{d.label(o)} {french.percent(f.loc[o, 'after_mean'])}" for o in d.optimizers if o in f.index)
    said = short_answer(d, "fine_tune", listed=False, brief=True) if d.compared else ""
    return Text(f"L'ajustement fin, qui dégèle {d.fine_tune_part}, au même budget pour chacun, donne : {scores}. "
                f"{fine_tune_change(d)} {said}".strip())


def shared_cores(d: ReportData) -> str:
    """``trois carnets se partageaient les deux cœurs de la machine`` when the study ran notebooks in
    parallel (``study.json``'s jobs and cores), else nothing."""
    s = d.study or {}
    jobs, cores = int(s.get("jobs") or 1), int((s.get("machine") or {}).get("cores") or 0)
    if jobs < 2 or not cores:
        return ""
    return (f"{in_words(jobs)} carnets se partageaient {'les' if cores > 1 else 'le'} {in_words(cores)} "
            f"{'cœurs' if cores > 1 else 'cœur'} de la machine")


def and_shared_cores(d: ReportData, joint: str = ", et") -> Text:
    """``, et trois carnets se partageaient les deux cœurs de la machine`` when they did, else nothing."""
    shared = shared_cores(d)
    return Text(f"{joint} {shared}" if shared else "")


def epoch_seconds(d: ReportData, when: str) -> Text:
    """The focus's epoch ``during`` the study (its mean) or timed ``alone`` (the median of the repeats)."""
    seconds = findings.epoch_seconds(d, d.focus)
    return Text(french.seconds(seconds[0 if when == "during" else 1]) if seconds else "n.d.")


def speed(d: ReportData, short: bool = False) -> Text:
    """Per-epoch cost of the focus against each rival, said only where it exceeds the timings' spread."""
    samples = timing_samples(d)
    if not d.compared or d.focus not in samples:
        return Text("")
    mine = samples[d.focus]
    rows = [(r, faster(mine, samples[r])) for r in d.rivals if r in samples]
    if not rows:
        return Text("")
    repeats = int(d.timing.groupby("optimizer").size().min())

    def median(name: str) -> str:  # the median with the range of the repeats: the spread the rule reads
        low, mid, high = np.percentile(np.asarray(samples[name], float), [0, 50, 100])
        return f"{french.seconds(mid)} en médiane (de {french.seconds(low)} à {french.seconds(high)})"

    same = [d.label(r) for r, w in rows if w == "same"]
    differ = [(r, w) for r, w in rows if w != "same"]
    how = (f"mesurée seule, {in_words(repeats)} fois en alternance avec les autres, une époque de la tête retenue "
           f"prend avec {focus(d)} {median(d.focus)}")
    parts = []
    if differ:
        parts.append(", ".join(f"{'moins' if w == 'faster' else 'plus'} que les {median(r)} {de(d.label(r))}"
                               for r, w in differ))
    if same:
        parts.append(f"autant {que(enumeration(same))}, à la dispersion des mesures près")
    said = sentence(f"{how} : {enumeration(parts)}")
    if short and not differ:  # page 1 speaks of the time per epoch only where the spreads do not overlap
        return Text("")
    known = [d.fact(n, "implementation") for n in [d.focus, *(r for r, _ in differ)]]
    if differ and None not in known and len(set(known)) > 1:
        said += (f" Ces optimiseurs ne viennent pas de la même implémentation (Keras pour les uns, ce projet pour "
                 f"{focus(d) if ours(d, d.focus) else 'les autres'}) : l'écart peut tenir au code autant qu'à "
                 f"l'algorithme.")
    return Text(said)


def costs_abstract(d: ReportData) -> Text:
    """Page 1's costs: the optimizer state (what an algorithm keeps per weight, whatever its code), the epochs to a
    common target, and the time per epoch only where its spreads do not overlap."""
    if not d.compared:
        return Text("")
    text = []
    costs = d.table("costs.csv")
    if not costs.empty and "slots_per_weight" in costs:
        c = costs.drop_duplicates("optimizer").set_index("optimizer")
        names = [n for n in [d.focus, *d.rivals] if n in c.index]
        if d.focus in names and len(names) > 1:
            full = "state_bytes_backbone" in c and not c["state_bytes_backbone"].isna().any()
            column = "state_bytes_backbone" if full else "state_bytes_head"
            slots = lambda n: int(c.loc[n, "slots_per_weight"])  # noqa: E731
            groups: dict[int, list[str]] = {}
            for n in names[1:]:
                groups.setdefault(slots(n), []).append(n)
            others = enumeration(f"{in_words(k)} pour {enumeration([d.label(n) for n in group])}"
                                 for k, group in groups.items())
            sizes = enumeration(f"{french.bytes_(float(c.loc[group[0], column]))} pour "
                                f"{enumeration([d.label(n) for n in group])}" for group in groups.values())
            where = f"pour le {d.backbone_label} complet" if full else "pour la tête"
            tensors = "tenseur d'état" if slots(d.focus) == 1 else "tenseurs d'état"
            text.append(f"En mémoire, {focus(d)} garde {in_words(slots(d.focus))} {tensors} par poids, contre "
                        f"{others} : {french.bytes_(float(c.loc[d.focus, column]))} contre {sizes} {where}.")
    epochs = epochs_sentence(d)
    if epochs:
        text.append(str(epochs))
    return Text(" ".join(text))


def conclusion(d: ReportData) -> Text:
    """The conclusion's answer, generated from the numbers (what the data exclude, or why nothing is compared); the
    rest of its paragraph (costs, fine-tuning, sensitivity) is ``index.qmd``'s."""
    if d.summary.empty:
        return Text("")
    if not d.compared:
        return Text(alone(d))
    lead = ("réponse à la question posée :" if d.pretrained and not d.synthetic else
            "sur ces caractéristiques sans pré-entraînement, qui ne tranchent pas la question posée :")
    return short_answer(d, listed=False, lead=lead)


def fine_tune_conclusion(d: ReportData) -> Text:
    """The conclusion's answer after fine-tuning, when fine-tuning worked and the focus has a rival."""
    if d.fine_tune.empty or not d.compared or all(collapsed(v, d.dataset.n_classes) for v in d.fine_tune["after_mean"]):
        return Text("")
    return short_answer(d, "fine_tune", listed=False, lead="après ajustement fin (voir la @sec-ajustement),")


def target_words(d: ReportData, fraction: float) -> Text:
    """``95 % de la meilleure exactitude de validation atteinte par l'un des optimiseurs dans la graine``."""
    level = french.percent(fraction, 0)
    whom = "l'un des optimiseurs" if len(d.optimizers) > 1 else "l'optimiseur"
    return Text(f"{level} de la meilleure exactitude de validation atteinte par {whom} dans la même graine")


def epochs_sentence(d: ReportData, which: str = "head") -> Text:
    """Epochs to the common target and epochs run: the focus against its rivals."""
    table = d.time_to_accuracy if which == "head" else d.fine_tune_time
    if table.empty or "target_95" not in table.columns or not d.compared:
        return Text("")
    t = table.set_index("optimizer")
    if d.focus not in t.index:
        return Text("")
    present = [r for r in d.rivals if r in t.index]
    if not present:
        return Text("")

    names = [d.focus, *present]
    shown = dict(zip(names, french.counts([t.loc[n, "epochs_to_95"] for n in names])))

    def reached(name) -> int:
        return int(t.loc[name, "reached_95"])

    def seeds_(name) -> str:
        n, k = int(t.loc[name, "n_seeds"]), reached(name)
        return "" if k == n else f" (dans {k} graines sur {n})"
    medians = "epochs_to_95_median" in t.columns
    if medians:  # the median of the seeds that reach it, beside the mean: one slow seed can carry the mean
        middle = dict(zip(names, french.counts([t.loc[n, "epochs_to_95_median"] for n in names])))
    else:
        middle = {}

    def median_(name) -> str:
        return f" (médiane {middle[name]})" if name in middle else ""
    late = [f"{shown[r]}{median_(r)} pour {d.label(r)}{seeds_(r)}" for r in present if reached(r)]
    never = [d.label(r) for r in present if not reached(r)]
    goal = target_words(d, 0.95)
    if reached(d.focus):
        text = f"Pour atteindre {goal}, il faut en moyenne {shown[d.focus]} {french.noun(t.loc[d.focus, 'epochs_to_95'], 'époque')} à {focus(d)}{median_(d.focus)}{seeds_(d.focus)}"
        text += f", contre {enumeration(late)}" if late else ""
        verb = "l'atteint" if len(never) == 1 else "l'atteignent"
        text += f", et {enumeration(never)} ne {verb} jamais" if never else ""
    else:
        text = f"{focus(d)} n'atteint jamais {goal}"
        text += f", {enumeration(never)} non plus" if never else ""
        text += f" ; il en faut en moyenne {enumeration(late)}" if late else ""
    stops = stopping_medians(d)
    return Text(f"{text} ; avec la même règle d'arrêt pour tous, {stops}." if stops else f"{text}.")


# ---------------------------------------------------------------------------------- method


def ours(d: ReportData, name: str) -> bool:
    """The optimizer's code is this project's, not Keras's: its parameter file says ``implementation: ours``."""
    return d.fact(name, "implementation") == "ours"


def small_batches(d: ReportData) -> str:
    """This study's batch size against the small-batch threshold of the Lion paper (and 2023's batch)."""
    if d.empty:
        return ""
    batch = int(d.first()["params"]["batch_size"])
    same = ""  # the 2023 report gives no batch size: nothing is said of it
    where = ("en dessous de ce seuil : Lion pourrait y être désavantagé" if batch < LION_SMALL_BATCH else
             "au-dessus de ce seuil" if batch > LION_SMALL_BATCH else "à ce seuil")
    return (f"Ils situent la limite vers {LION_SMALL_BATCH} exemples par lot. Cette étude{same} entraîne ses têtes "
            f"par lots de {batch} images, {where}.")


def optimizer_sections(d: ReportData) -> Text:
    """The state of the art of each optimizer that ran (``report/optimizers/<name>.md``), in study order."""
    folder = project.report_dir() / "optimizers"
    names = d.optimizers or d.planned
    parts = [(folder / f"{n}.md").read_text(encoding="utf-8").strip() for n in names
             if SAFE_NAME.match(n) and (folder / f"{n}.md").is_file()]  # a recorded name never reaches another file
    return Text("\n\n".join(parts).replace("<!-- study-batch -->", small_batches(d)))


def backbone_section(d: ReportData) -> Text:
    """The backbone's own state of the art (``report/backbones/<name>.md``), or one honest sentence."""
    path = project.report_dir() / "backbones" / f"{d.backbone}.md"
    if SAFE_NAME.match(d.backbone) and path.is_file():
        return Text(path.read_text(encoding="utf-8").strip())
    dim = f" ; sa sortie moyennée spatialement compte {french.integer(d.feature_dim)} caractéristiques" \
        if d.feature_dim else ""
    return Text(f"## {d.backbone_label}\n\nLe réseau de base de cette étude est {d.backbone_label}, tel que le "
                f"fournit `keras.applications`{dim}.")




# ---------------------------------------------------------------------------------- results, interpreted


def pairs_intro(d: ReportData) -> Text:
    """The sentence before the table of paired comparisons."""
    if not d.compared:
        return Text(alone(d) if not d.empty else "")
    return Text(f"Le @tbl-paires détaille chaque comparaison ; ses premières lignes, {focus(d)} − rival, sont celles "
                f"de la @fig-ecarts.")


def curve_gaps(d: ReportData) -> Text:
    """``+3,1 points pour Adam, +6,2 points pour Lion``: training minus validation accuracy at the kept epoch (the
    learning curves' paragraph around it is ``index.qmd``'s)."""
    return Text(", ".join(f"{french.points(g)} pour {d.label(n)}" for n, g in d.kept_epoch_gaps().items()))


def overfitting(d: ReportData) -> Text:
    """``de Lion``, ``d'Adam et de Lion``: the heads that overfit at the kept epoch."""
    return Text(enumeration([de(d.label(n)) for n, g in d.kept_epoch_gaps().items() if overfits(g)]))


def capped_runs(d: ReportData) -> Text:
    """``celui d'AdamW (graine 0)``, ``ceux d'Adam (graines 0, 1 et 2) et de Lion (graine 4)``: the chosen heads'
    trainings that ran up to the epoch cap (``ReportData.capped``), by optimizer and seed."""
    capped = d.capped()
    named = []
    for name in d.optimizers:
        seeds = [str(int(s)) for s in capped.loc[capped["optimizer"] == name, "seed"]]
        if seeds:
            named.append(f"{de(d.label(name))} ({'graine' if len(seeds) == 1 else 'graines'} {enumeration(seeds)})")
    return Text(f"{'celui' if len(capped) == 1 else 'ceux'} {enumeration(named)}" if named else "")


def capped_shown(d: ReportData) -> Text:
    """``d'AdamW``, ``d'Adam et de SGD``: the optimizers whose curves, as shown (first seed), run up to the cap."""
    return Text(enumeration([de(d.label(n)) for n in d.capped_shown()]))


def confusion_caption(d: ReportData) -> Text:
    """The end of the confusion figure's caption: the share from which a confusion is written in its cell
    (``figures.confusion_level``: lowered from the usual level when some matrix never reaches it)."""
    text, race = "", d.dataset.words[0]  # the caption's start is index.qmd's
    matrices = d.confusions() if not d.empty else {}
    level = figures.confusion_level(matrices)
    usual = figures.CONFUSION_LEVELS[0]
    if level is None:
        return Text(f"{text}. Aucune image de test n'y est attribuée à une autre {race}.")
    if level == usual:
        return Text(f"{text}, et les confusions d'au moins {french.percent(level, 0)} sont chiffrées.")
    every = all(figures.off_diagonal(m).max() >= level for m in matrices.values())
    why = ("" if every else " ; même à ce seuil, le plus bas prévu, une matrice au moins n'en montre aucune")
    return Text(f"{text}, et les confusions d'au moins {french.percent(level, 0)} sont chiffrées (au seuil "
                f"de {french.percent(usual, 0)}, une matrice au moins n'en montrerait aucune){why}.")


def confusions_text(d: ReportData, top: int = 2) -> Text:
    """What the confusion figure shows: the breeds recognised worst and best, the most frequent
    confusions (as a share of the true breed and in images per seed), whether they are the look-alikes
    the introduction announces, and whether every optimizer makes them."""
    if d.empty:
        return Text("")
    matrices = d.confusions()
    total = sum(m.to_numpy(dtype=float) for m in matrices.values())
    rows = np.maximum(total.sum(axis=1), 1)
    recall = np.diag(total) / rows
    confused = figures.off_diagonal(pd.DataFrame(total))
    together = "Tous optimiseurs et graines confondus" if len(matrices) > 1 else "Toutes graines confondues"
    shown, (race, races) = d.class_names, d.dataset.words

    def named(which: float) -> str:
        return enumeration([quoted(shown[i]) for i in np.flatnonzero(recall == which)])

    low, high = float(recall.min()), float(recall.max())
    if low == high:
        text = [f"{together}, chaque {race} a {french.percent(low, 0)} de ses images de test bien classées."]
    else:
        worst = (f"la {race} la moins bien reconnue est" if (recall == low).sum() == 1
                 else f"les {races} les moins bien reconnues sont")
        best = "la mieux reconnue" if (recall == high).sum() == 1 else "les mieux reconnues"
        text = [f"{together}, {worst} {named(low)} ({french.percent(low, 0)} de ses images de test bien classées), "
                f"{best} {named(high)} ({french.percent(high, 0)})."]
    order = np.dstack(np.unravel_index(np.argsort(-confused, axis=None, kind="stable"), confused.shape))[0][:top]
    pairs_ = [(int(i), int(j)) for i, j in order if confused[i, j] > 0]
    if not pairs_:
        text.append(f"Aucune image de test n'est attribuée à une autre {race}.")
        return Text(" ".join(text))
    runs = len(d.runs) or 1  # every optimizer's seeds: the confusions' images per run
    said = []
    pictures = "photos" if d.real_photos else "images"
    for i, j in pairs_:
        images = total[i, j] / runs
        said.append(f"{french.percent(confused[i, j], 0)} des {pictures} {de(shown[i])} sont classées "
                    f"{quoted(shown[j])} (environ {french.number(images, 1)} "
                    f"{'images' if round(images, 1) >= 2 else 'image'} par essai)")
    many = len(pairs_) > 1
    text.append(("Les confusions les plus fréquentes sont les suivantes : " if many else
                 "Une seule confusion se présente : ") + " ; ".join(said) + ".")
    # Shapes, not dogs, in a synthetic study: no look-alike to expect.
    folders = d.dataset.folders  # look-alikes only where the data set announces some (the breeds)
    expected = [] if d.synthetic or not d.dataset.lookalikes else \
        [d.dataset.lookalike(folders[i], folders[j]) for i, j in pairs_]
    if not expected:
        pass
    elif all(expected):
        text.append(f"{'Ces confusions opposent' if many else 'Elle oppose'} des races que "
                    f"l'introduction annonçait proches.")
    elif not any(expected):
        text.append(f"{'Aucune' if many else 'Elle'} n'oppose {'de' if many else 'pas de'} "
                    f"races que l'introduction annonçait proches.")
    else:
        which = enumeration([f"{quoted(shown[i])} et {quoted(shown[j])}"
                             for (i, j), e in zip(pairs_, expected) if e])
        text.append(f"Seule la confusion entre {which} était annoncée en introduction.")
    if len(matrices) > 1:
        made = [all(m.to_numpy(dtype=float)[i, j] > 0 for m in matrices.values()) for i, j in pairs_]
        if all(made):
            text.append(f"Chaque optimiseur {'les' if many else 'la'} commet (@tbl-confusions) : "
                        f"{'elles semblent' if many else 'elle semble'} tenir aux caractéristiques du réseau de base "
                        f"plus qu'à l'optimiseur.")
        else:
            text.append(("Toutes ne sont pas commises" if many else "Elle n'est pas commise")
                        + " par chaque optimiseur (@tbl-confusions).")
    return Text(" ".join(text))


# ---------------------------------------------------------------------------------- the 2023 study


def stopping_medians(d: ReportData) -> str:
    """``Lion s'arrête après 15 époques en médiane (de 12 à 52), contre 20 (de 11 à 32) pour Adam …``: epochs run
    per seed, focus against rivals (the median and range from three seeds, the mean with two, the count with one)."""
    names = [n for n in [d.focus, *d.rivals] if n in set(d.runs.get("optimizer", []))]
    if not d.compared or "epochs_run" not in d.runs or len(names) < 2 or d.focus not in names:
        return ""
    runs = d.runs[d.runs["optimizer"].isin(names)]
    seeds = int(runs.groupby("optimizer").size().min())
    st = runs.groupby("optimizer")["epochs_run"].agg(["median", "mean", "min", "max"])
    mid = dict(zip(names, french.counts([st.loc[n, "median" if seeds > 2 else "mean"] for n in names])))
    span = {n: f" (de {french.integer(int(st.loc[n, 'min']))} à {french.integer(int(st.loc[n, 'max']))})"
            if seeds > 2 else "" for n in names}
    how = " en médiane" if seeds > 2 else " en moyenne" if seeds == 2 else ""
    others = enumeration(f"{mid[r]}{span[r]} pour {d.label(r)}" for r in names[1:])
    return f"{focus(d)} s'arrête après {mid[d.focus]} époques{how}{span[d.focus]}, contre {others}"


def epochs_2023(d: ReportData) -> Text:
    """This study's epochs, focus against rivals, under one stopping rule (2023's facts are written in index.qmd)."""
    medians = stopping_medians(d)
    return Text(f"Ici, la même règle d'arrêt vaut pour tous : {medians}." if medians else "")


def differs_2023_reasons(d: ReportData) -> Text:
    """What keeps this study's accuracies from comparing with 2023's (backbone, weights, images), or nothing."""
    differs = []
    if not d.xception:
        differs.append(f"un autre réseau de base ({d.backbone_label} au lieu de Xception)")
    if not d.pretrained:
        differs.append("des poids aléatoires au lieu de poids pré-entraînés")
    if d.synthetic:
        differs.append("des images synthétiques au lieu de photos")
    elif d.cropped_photos:
        differs.append("des photos recadrées sur le chien, plus faciles que les photos d'origine")
    return Text(enumeration(differs))






def span_2023(d: ReportData, which: str) -> Text:
    """``84 % à 85 %``: the test accuracies of 2023 (``old``) or this study's means over the seeds (``now``)."""
    if which == "old":
        values = [float(o["accuracy"]) for o in (d.old.get("optimizers") or {}).values()]
    else:
        values = [float(v) for v in d.summary["test_accuracy_mean"]] if not d.summary.empty else []
    if not values:
        return Text("n.d.")
    low, high = french.percent(min(values), 0), french.percent(max(values), 0)
    return Text(low if low == high else f"{low} à {high}")


def tried_span(d: ReportData) -> Text:
    """``9,0 à 13,3``: the configurations tried per seed, on average, by the optimizer that tried the fewest and the
    one that tried the most."""
    rows = report_sensitivity.tuning_rows(d)
    if rows.empty:
        return Text("n.d.")
    return Text(f"{french.number(float(rows['tried_mean'].min()), 1)} à {french.number(float(rows['tried_mean'].max()), 1)}")


def baseline_value(d: ReportData, key: str) -> Text:
    """The untrained ImageNet classifier's ``accuracy`` and ``n_test``, the ``best`` trained head, their ``gain``."""
    b = d.baseline or {}
    if not b.get("available"):
        return Text("n.d.")
    best = float(d.summary["test_accuracy_mean"].max()) if not d.summary.empty else math.nan
    return Text({"accuracy": lambda: french.percent(b["accuracy"]), "n_test": lambda: french.integer(b["n_test"]),
                 "best": lambda: french.percent(best), "gain": lambda: french.points(best - b["accuracy"])}[key]())




# ---------------------------------------------------------------------------------- performance


def cluster_links(d: ReportData) -> Text:
    """The links to each seed's executed notebook when the study ran on a cluster (``findings.seed_notebooks``;
    the sentence around them is index.qmd's)."""
    return Text(", ".join(f"[{d.label(name)}, graine {seed}](../results/{quote(name)}/seed-{seed}/training.html)"
                          for name, seed in findings.seed_notebooks(d)))


def notebook_links(d: ReportData) -> Text:
    """Links to each optimizer's executed notebook (HTML view and .ipynb), relative to the report."""
    lines = []
    for name in d.optimizers:
        n = int((d.runs["optimizer"] == name).sum())
        rel = f"../results/{quote(name)}/training"
        lines.append(f"- {d.label(name)} ({french.plural(n, 'graine')}) : [carnet exécuté]({rel}.html) "
                     f"([.ipynb]({rel}.ipynb))")
    return Text("\n".join(lines) if lines else "Aucun carnet exécuté.")


# ---------------------------------------------------------------------------------- fine-tuning


def fine_tune_value(d: ReportData, key: str) -> Text:
    """Fine-tuning's ``parameters`` (weights trained with the head) and ``epochs`` budget (``30 époques``)."""
    if d.fine_tune.empty:
        return Text("n.d.")
    f = d.fine_tune
    if key == "parameters":
        return Text(french.integer(int(f["trainable_parameters"].iloc[0])))
    epochs = (d.study or {}).get("fine_tune_epochs") or int(f["epochs_run"].max())
    return Text(french.plural(epochs, "époque"))


def spread(d: ReportData, which: str) -> Text:
    """``4,0 points``: the spread of the ``head`` alone or ``tuned`` after fine-tuning."""
    head, tuned = spreads(d)
    return Text(unsigned_points(tuned if which == "tuned" else head))


def fine_tune_change(d: ReportData) -> Text:
    """What fine-tuning did to each optimizer's test accuracy on the seeds it ran on, when every change has one
    sign: ``Sur les mêmes graines, l'ajustement fin a fait baisser l'exactitude de test de chaque optimiseur
    (de 0,7 à 0,8 point).`` Nothing when the changes differ in sign or fine-tuning did not run."""
    t = d.fine_tune
    if t.empty or not {"before_mean", "after_mean"} <= set(t.columns):
        return Text("")
    change = (t["after_mean"] - t["before_mean"]).to_numpy(float)
    if not ((change < 0).all() or (change > 0).all()):
        return Text("")
    low, high = sorted((abs(change.min()), abs(change.max())))
    size = (unsigned_points(low) if round(100 * low, 1) == round(100 * high, 1)
            else f"de {french.number(100 * low, 1)} à {unsigned_points(high)}")
    whose = "de chaque optimiseur" if len(t) > 1 else french.de(d.label(t["optimizer"].iloc[0]))
    way = "baisser" if (change < 0).all() else "monter"
    return Text(f"Sur les mêmes graines, l'ajustement fin a fait {way} l'exactitude de test {whose} ({size}).")


def fine_tune_validation(d: ReportData) -> Text:
    """``Adam 95,6 → 94,7 %, …``: the validation accuracy before and after fine-tuning (the seeds it ran on); the
    sentences are ``index.qmd``'s (``fine_tune_val_fell``: it fell for some optimizer)."""
    t = d.fine_tune
    if t.empty or not {"val_before", "val_after"} <= set(t.columns) or t["val_before"].isna().any():
        return Text("")
    rows = t.set_index("optimizer")
    values = enumeration(f"{d.label(n)} {french.number(100 * rows.loc[n, 'val_before'], 1)} → "
                         f"{french.percent(rows.loc[n, 'val_after'])}" for n in d.optimizers if n in rows.index)
    return Text(values)


def fine_tune_val_fell(d: ReportData) -> Text:
    """``6 des 9``: the fine-tuned trainings whose validation accuracy ended below their head's."""
    r = d.runs
    if not {"ft_val_accuracy", "ft_val_accuracy_before"} <= set(r.columns):
        return Text("n.d.")
    tuned = r[r["ft_val_accuracy"].notna() & r["optimizer"].isin(d.optimizers)]
    fell = int((tuned["ft_val_accuracy"] < tuned["ft_val_accuracy_before"] - 1e-12).sum())
    return Text(f"{french.integer(fell)} des {french.integer(len(tuned))}")


def fine_tune_unchanged(d: ReportData) -> Text:
    """The fine-tuned trainings that changed nothing (same validation and test accuracy as their head): their
    optimizer, seed and rate, for the mean 'after' to be read knowing it."""
    r = d.runs
    need = {"ft_val_accuracy", "ft_val_accuracy_before", "ft_test_accuracy", "test_accuracy", "ft_learning_rate"}
    if not need <= set(r.columns):
        return Text("")
    tuned = r[r["ft_test_accuracy"].notna() & r["optimizer"].isin(d.optimizers)]
    close = lambda a, b: (tuned[a] - tuned[b]).abs() < 1e-6  # noqa: E731 (float32 metrics against float64)
    same = tuned[close("ft_val_accuracy", "ft_val_accuracy_before") & close("ft_test_accuracy", "test_accuracy")]
    if same.empty:
        return Text("")
    which = enumeration(f"{d.label(x.optimizer)} (graine {x.seed}, η = {french.scientific(x.ft_learning_rate)})"
                        for x in same.itertuples())
    return Text(f"L'ajustement fin n'a rien changé pour {which}, que la moyenne « après » inclut.")


def fine_tune_answer(d: ReportData) -> Text:
    """The answer after fine-tuning, when the focus has a rival (nothing otherwise)."""
    return short_answer(d, "fine_tune") if d.compared and not d.fine_tune.empty else Text("")


def targets(d: ReportData, which: str = "head") -> Text:
    """``89,3 % et 93,1 %``: the common targets of time to accuracy, averaged over the seeds."""
    table = d.time_to_accuracy if which == "head" else d.fine_tune_time
    if table.empty or "target_95" not in table.columns:
        return Text("n.d.")
    return Text(" et ".join(french.percent(table[f"target_{t}"].mean()) for t in (95, 99)))


def target_percent(fraction: float) -> Text:
    return Text(french.percent(fraction, 0))


def fine_tune_edge_count(d: ReportData) -> Text:
    low, total = findings.fine_tune_edges(d)
    return Text(f"{french.integer(low)} des {french.integer(total)}")


def fine_tune_rates(d: ReportData) -> Text:
    """``trois taux d'apprentissage``: the size of the fine-tuning budget, read in the runs' ``fine_tune_tuning.csv``
    (the most any run tried; the parameter files' ``fine_tune: learning_rate_factors``)."""
    counts = [pd.read_csv(Path(path) / "fine_tune_tuning.csv")["learning_rate"].nunique()
              for path in d.runs.get("path", []) if (Path(path) / "fine_tune_tuning.csv").is_file()]
    n = max(counts) if counts else 0
    return Text(f"{'un' if n == 1 else in_words(n)} taux d'apprentissage")


def rerun_command(d: ReportData) -> Text:
    """The command that made this study, rebuilt from its own record (``study.json``)."""
    from lionpoc.report.render import resume_command

    names = d.planned or d.optimizers
    if not d.study or not names:
        return Text("")
    # A code block, not inline code: the PDF would cut an option across lines ("--" / "smoke").
    # One option per line: none is cut across lines, and the block pastes into a shell as it is.
    lines = resume_command(d.results_dir, names, with_results_dir=False, separator=" \\\n    ")
    return Text(f"Cette étude-ci se refait avec :\n\n{code_block(lines, 'sh')}\n")
