"""The report's sentences, assembled from the numbers by small named rules.

Each "number -> words" decision is one function with its threshold stated (``verdict``, ``speed``,
``cause``, ``decoding``): a sentence never says more than its number allows, and the tests check
every branch.
"""
from __future__ import annotations

import math
from pathlib import Path

from lionpoc.report import french
from lionpoc.study import stats
from lionpoc.report.figures import LABELS
from lionpoc.report.data import ReportData
from lionpoc.report.markup import Text, callout
from lionpoc.report.tables import interval, p_value

ALPHA = 0.05          # significance level of every test in the report
CLOSE = 0.10          # two ratios within 10 % of each other are "about the same"


# ---------------------------------------------------------------------------------- rules
def verdict(pair: dict) -> str:
    """``significant`` when the all-seeds test gives p < 0.05 and the bootstrap interval excludes zero;
    otherwise ``noise``."""
    excludes_zero = pair["ci_low"] > 0 or pair["ci_high"] < 0
    return "significant" if pair["p_value"] < ALPHA and excludes_zero else "noise"


def speed(value: float, others: list[float]) -> str:
    """Where a duration sits among the others': ``fastest``, ``slowest`` or ``between``."""
    if all(value < o for o in others):
        return "fastest"
    if all(value > o for o in others):
        return "slowest"
    return "between"


def cause(epochs_ratio: float, per_epoch_ratio: float) -> str:
    """Why a training took longer or shorter: ``epochs`` (early stopping), ``steps`` (cost per epoch),
    or ``none`` when both ratios are within 10 % of 1."""
    if abs(epochs_ratio - 1) <= CLOSE and abs(per_epoch_ratio - 1) <= CLOSE:
        return "none"
    return "epochs" if abs(math.log(epochs_ratio)) >= abs(math.log(per_epoch_ratio)) else "steps"


def decoding(fraction: float) -> str:
    """How much decoding the images slows the feature pass: ``negligible`` (>= 90 % of the bare
    forward pass), ``some`` (>= 70 %), ``strong`` (below)."""
    return "negligible" if fraction >= 0.9 else "some" if fraction >= 0.7 else "strong"


def de(name: str) -> str:
    """"de" + name with the French elision: ``de Lion``, ``d'Adam``, ``d'AdamW``."""
    return f"d'{name}" if name[0].lower() in "aeiouyh" else f"de {name}"


def que(name: str) -> str:
    """"que" + name with the elision: ``qu'AdamW``, ``que Lion``."""
    return f"qu'{name}" if name[0].lower() in "aeiouyh" else f"que {name}"


# ---------------------------------------------------------------------------------- warnings
def warnings(d: ReportData) -> Text:
    """Visible callouts, before anything else: no results, damaged runs, synthetic data, random
    weights, missing optimizers, tables that no longer match the runs."""
    parts = []
    if d.empty:
        parts.append(callout("important", "Aucun résultat",
                             f"Le dossier `{d.results_dir}` ne contient aucun résultat. Lancez `lionpoc study` "
                             "(ou `lionpoc study --smoke` pour un essai rapide), puis `lionpoc render`."))
    if d.damaged:
        names = ", ".join(f"{LABELS.get(x['optimizer'], x['optimizer'])} graine {x['seed']} (`{x['path']}`)"
                          for x in d.damaged)
        parts.append(callout("warning", "Essais endommagés",
                             f"Ces essais ont un fichier `metrics.json` illisible et sont ignorés : {names}. "
                             "`lionpoc study` les refait."))
    if d.synthetic:
        parts.append(callout("warning", "Données synthétiques",
                             "Ces résultats viennent d'images synthétiques (formes colorées) et d'un Xception "
                             "aux poids aléatoires (`lionpoc study --smoke`). Ils valident la chaîne de traitement, "
                             "pas la question posée : aucun chiffre ci-dessous ne concerne des chiens. Le rapport "
                             "définitif s'obtient avec `lionpoc study`."))
    elif not d.empty and d.weights == "none":
        parts.append(callout("warning", "Xception sans pré-entraînement",
                             "Ces résultats viennent de vraies photos, mais d'un Xception aux poids aléatoires "
                             "(`--weights none`) : ses caractéristiques ne savent rien des chiens, d'où une "
                             "exactitude très inférieure à celle d'un apprentissage par transfert. Les chiffres "
                             "vérifient la chaîne sur de vraies images ; ils ne disent rien de Lion face à Adam "
                             "dans l'étude réelle, qui s'obtient avec les poids ImageNet : `lionpoc study`."))
    if d.missing and not d.empty:
        names = ", ".join(LABELS[m] for m in d.missing)
        parts.append(callout("warning", "Résultats incomplets",
                             f"Il manque les résultats de : {names}. Les tableaux et figures ne montrent que les "
                             f"autres optimiseurs. Pour les produire : `lionpoc study --optimizers {','.join(d.missing)}`."))
    if d.tables_stale:
        parts.append(callout("warning", "Tableaux à recalculer",
                             "Les tableaux de l'étude (`summary.csv`, `pairs.csv`) ne correspondent plus aux essais "
                             "présents. Relancez `lionpoc study` : il garde les essais faits et refait les tableaux."))
    return Text("\n\n".join(parts))


# ---------------------------------------------------------------------------------- numbers in the text
def count(d: ReportData, part: str | None = None) -> Text:
    rows = d.split if part is None or d.split.empty else d.split[d.split["split"] == part]
    return Text(french.integer(len(rows)))


def setting(d: ReportData, key: str) -> Text:
    """One protocol parameter of the study, in French (image size, epochs, patience, ...)."""
    if d.empty:
        return Text("n.d.")
    value = d.first()["params"][key]
    if key == "weights":
        return Text({"imagenet": "ceux appris sur ImageNet",
                     "none": "aléatoires (aucun pré-entraînement)"}.get(value, f"lus dans le fichier `{Path(value).name}`"))
    if isinstance(value, float):
        return Text(french.number(value, 2).rstrip("0").rstrip(","))
    return Text(str(value))


def seeds(d: ReportData) -> Text:
    """``3 graines``: the most seeds any optimizer has."""
    return Text(french.plural(int(d.runs.groupby("optimizer").size().max()) if not d.empty else 0, "graine"))


def feature_time(d: ReportData) -> Text:
    """Time of the single pass of the frozen base over every image (shared by all runs)."""
    if d.empty:
        return Text("n.d.")
    return Text(french.seconds(float(d.first()["feature_seconds"])))


def metric(d: ReportData, optimizer: str, column: str = "test_accuracy_mean") -> Text:
    if optimizer not in d.optimizers or d.summary.empty:
        return Text("n.d.")
    return Text(french.percent(float(d.row(optimizer)[column])))


def skipped(d: ReportData) -> Text:
    if d.empty:
        return Text("")
    files = d.first()["skipped_files"]
    if not files:
        return Text("Toutes les images ont pu être lues.")
    return Text(f"{len(files)} fichier(s) illisible(s) ont été écartés : "
                + ", ".join(f"`{s['file']}`" for s in files[:5]) + ("…" if len(files) > 5 else "") + ".")


def noise(d: ReportData) -> Text:
    if d.empty or d.summary.empty:
        return Text("")
    n = int(d.runs["n_test"].iloc[0])
    best = float(d.summary["test_accuracy_mean"].max())
    low, high = stats.wilson_ci(round(best * n), n)
    return Text(f"Avec {french.integer(n)} images de test, une image vaut {french.number(100 / n, 2)} point ; "
                f"une exactitude de {french.percent(best)} mesurée sur un seul essai a un intervalle de confiance "
                f"à 95 % (Wilson) de {interval(low, high)}.")


def memory_saving(d: ReportData) -> Text:
    if d.memory.empty:
        return Text("n.d.")
    full = d.memory[d.memory["model"] == "xception"].set_index("optimizer")["state_bytes"]
    return Text(french.bytes_(full["adamw"] - full["lion"]))


# ---------------------------------------------------------------------------------- comparisons
def pair(d: ReportData, a: str, b: str, which: str = "head") -> dict | None:
    """The row of ``pairs.csv`` (or ``fine_tune_pairs.csv``) for (a, b), oriented so that the difference is a − b."""
    for row in d.paired(which).to_dict("records"):
        if {row["a"], row["b"]} == {a, b}:
            if row["a"] != a:
                row = {**row, "a": a, "b": b, "diff_accuracy": -row["diff_accuracy"],
                       "ci_low": -row["ci_high"], "ci_high": -row["ci_low"]}
            return row
    return None


def ranking(d: ReportData) -> list[str]:
    return list(d.summary.sort_values("test_accuracy_mean", ascending=False)["optimizer"]) \
        if not d.summary.empty else []


def _pair_words(p: dict) -> str:
    return (f"{french.points(p['diff_accuracy'])} (IC 95 % {interval(p['ci_low'], p['ci_high'], points=True)}, "
            f"p = {p_value(p['p_value'])})")


def abstract(d: ReportData) -> Text:
    """The answer first: question, protocol in one sentence, verdict with its numbers, time."""
    if d.empty or d.summary.empty:
        return Text("Aucun résultat n'est encore disponible : ce résumé se remplira après `lionpoc study`.")
    s = d.summary.set_index("optimizer")
    n_seeds = int(s["n_seeds"].max())
    scores = " ; ".join(f"{LABELS[o]} {french.percent(s.loc[o, 'test_accuracy_mean'])} "
                        f"{interval(s.loc[o, 'test_accuracy_ci_low'], s.loc[o, 'test_accuracy_ci_high'])}"
                        for o in d.optimizers)
    text = [f"Lion, l'optimiseur proposé par Chen et al. en 2023, fait-il mieux qu'Adam et AdamW quand on adapte "
            f"un Xception pré-entraîné à quinze races de Stanford Dogs ? Chaque optimiseur a entraîné la même tête "
            f"de classification sur les caractéristiques d'un Xception figé, avec le même budget de réglage sur la "
            f"validation, {french.plural(n_seeds, 'graine')} et {count(d, 'test')} images de test jamais vues pendant le réglage. "
            f"Exactitude sur le test (intervalle à 95 %) : {scores}."]
    text.append(answer(d))
    if "lion" in s.index and len(s) > 1:
        rivals = [o for o in s.index if o != "lion"]
        where = speed(s.loc["lion", "train_seconds"], [s.loc[o, "train_seconds"] for o in rivals])
        text.append({"fastest": "Lion est aussi le plus rapide à entraîner",
                     "slowest": "Lion est en revanche le plus lent à entraîner",
                     "between": "Côté temps, Lion se place entre les deux autres"}[where]
                    + f" ({french.seconds(s.loc['lion', 'train_seconds'])} pour la tête retenue, contre "
                    + " et ".join(f"{french.seconds(s.loc[o, 'train_seconds'])} pour {LABELS[o]}" for o in rivals)
                    + ").")
    text.append(fine_tune_abstract(d))
    if d.synthetic or d.weights == "none":
        text.append("Ces chiffres ne valent que pour la vérification de la chaîne (voir l'avertissement ci-dessus).")
    return Text(" ".join(t for t in text if t))


def fine_tune_abstract(d: ReportData) -> str:
    """The abstract's sentence on fine-tuning block 14, when the study did it (empty otherwise)."""
    if d.fine_tune.empty:
        return ""
    f = d.fine_tune.set_index("optimizer")
    if all(collapsed(v) for v in f["after_mean"]):
        return ("L'ajustement fin du bloc 14 a ramené tous les optimiseurs au niveau du hasard : son budget est à "
                "revoir avant toute conclusion.")
    scores = " ; ".join(f"{LABELS[o]} {french.percent(f.loc[o, 'after_mean'])}" for o in d.optimizers if o in f.index)
    said = answer(d, "fine_tune")
    return (f"Après ajustement fin du bloc 14 de Xception, au même budget pour chacun : {scores}. "
            + (f"Dans ce réglage, {said}" if said.startswith("Lion ") else said))


def answer(d: ReportData, which: str = "head") -> str:
    """One sentence: does Lion beat its best rival, lose to it, or not differ, and on which test
    (after training the head, or after fine-tuning with ``which="fine_tune"``)."""
    table, column = (d.summary, "test_accuracy_mean") if which == "head" else (d.fine_tune, "after_mean")
    s = table.set_index("optimizer")
    if "lion" not in s.index or len(s) < 2:
        return "La comparaison demande Lion et au moins un autre optimiseur."
    rival = s.drop(index="lion")[column].idxmax()
    p = pair(d, "lion", rival, which)
    if p is None:
        return "Les tests appariés manquent : relancez `lionpoc study`."
    kind = verdict(p)
    if kind == "noise":
        head = f"Lion ne se distingue pas significativement {de(LABELS[rival])}, le meilleur de ses rivaux"
    elif p["diff_accuracy"] > 0:
        head = f"Lion fait significativement mieux {que(LABELS[rival])}, le meilleur de ses rivaux"
    else:
        head = f"Lion fait significativement moins bien {que(LABELS[rival])}, le meilleur de ses rivaux"
    return (f"{head} (écart de {french.points(p['diff_accuracy'])}, IC 95 % "
            f"{interval(p['ci_low'], p['ci_high'], points=True)}{french.NNBSP}{french.point_word(p['ci_low'], p['ci_high'])}, "
            f"p = {p_value(p['p_value'])} ; test de "
            f"permutation apparié sur toutes les graines et intervalle bootstrap sur les images).")


def conclusion(d: ReportData) -> Text:
    """The answer, generated from the numbers: who wins, by how much, whether it is noise, and the cost."""
    order = ranking(d)
    if not order:
        return Text("Aucune conclusion n'est possible sans résultats.")
    s = d.summary.set_index("optimizer")
    best = order[0]
    sentences = [f"{LABELS[best]} obtient la meilleure exactitude moyenne sur le test "
                 f"({french.percent(s.loc[best, 'test_accuracy_mean'])}, F1 macro "
                 f"{french.percent(s.loc[best, 'test_macro_f1_mean'])})."]
    for other in order[1:]:
        p = pair(d, best, other)
        if p is None:
            continue
        words = ("un écart qui reste dans le bruit de mesure" if verdict(p) == "noise"
                 else "un écart statistiquement significatif")
        sentences.append(f"Devant {LABELS[other]}, l'avance est de {_pair_words(p)} : {words}.")
    if "lion" in s.index and len(s) > 1:
        sentences.append(f"Réponse à la question posée : {answer(d)}")
        others = s.drop(index="lion")
        where = speed(s.loc["lion", "train_seconds"], list(others["train_seconds"]))
        epochs = s.loc["lion", "epochs_run"] / others["epochs_run"].mean()
        per_epoch = s.loc["lion", "seconds_per_epoch"] / others["seconds_per_epoch"].mean()
        lead = {"fastest": "Côté coût, Lion s'entraîne plus vite que les deux autres",
                "slowest": "Côté coût, Lion s'entraîne moins vite que les deux autres",
                "between": "Côté coût, Lion se place entre les deux autres"}[where]
        why = {"epochs": "l'écart vient surtout du nombre d'époques, donc de l'arrêt précoce.",
               "steps": "l'écart vient surtout du coût de chaque époque.",
               "none": "ni le nombre d'époques ni leur coût ne s'écartent de plus de 10 %."}[cause(epochs, per_epoch)]
        sentences.append(f"{lead} ({french.seconds(s.loc['lion', 'train_seconds'])}) ; il fait "
                         f"{french.number(epochs, 2)} fois leur nombre moyen d'époques, chacune coûtant "
                         f"{french.number(per_epoch, 2)} fois la leur : {why}")
    if not d.fine_tune.empty:
        f = d.fine_tune.set_index("optimizer")
        if all(collapsed(v) for v in f["after_mean"]):
            sentences.append("L'ajustement fin du bloc 14 n'apporte rien ici : il ramène tous les optimiseurs au "
                             "hasard (voir la @sec-ajustement).")
        else:
            best = f["after_mean"].idxmax()
            sentences.append(f"Après ajustement fin du bloc 14, {LABELS[best]} est en tête avec "
                             f"{french.percent(f.loc[best, 'after_mean'])} (voir la @sec-ajustement pour les tests "
                             f"appariés et les courbes).")
    if d.synthetic or d.weights == "none":
        sentences.append("Ces chiffres proviennent d'un réseau sans pré-entraînement : ils valident la chaîne, "
                         "pas la comparaison des optimiseurs.")
    return Text(" ".join(sentences))


# ---------------------------------------------------------------------------------- the 2023 study
def study_2023(d: ReportData) -> Text:
    """What is known of the 2023 study, and no more."""
    old = d.old["optimizers"]
    per_epoch = old["adam"]["minutes"] * 60 / int(old["adam"]["epochs"])
    return Text(f"L'étude de 2023 a fait un seul essai par optimiseur, sur un {d.old['machine']}. Elle rapporte "
                f"{old['adam']['minutes']} minutes pour 100 époques avec Adam, soit environ "
                f"{french.number(per_epoch, 0)} secondes par époque : un tel temps correspond à une base figée que "
                f"l'on refait tourner sur chaque image à chaque époque, sans cache, plutôt qu'à l'entraînement du "
                f"réseau complet, qui serait bien plus lent sur ce processeur. Lion y était arrêté après "
                f"{old['lion']['epochs']} époques (patience {old['lion']['early_stopping_patience']}). Le rapport de "
                f"2023 ne donne pas davantage de détails sur le protocole. Le tableau ci-dessous met ses chiffres en "
                f"regard des nôtres ; ici la base ne tourne qu'une fois pour toutes, d'où des durées sans commune "
                f"mesure.")


def baseline(d: ReportData) -> Text:
    b = d.baseline or {"available": False, "reason": "baseline.json absent"}
    if b.get("available"):
        best = float(d.summary["test_accuracy_mean"].max()) if not d.summary.empty else math.nan
        gain = best - b["accuracy"]
        return Text(f"Sans aucun entraînement, le classifieur ImageNet de Xception restreint aux 15 races atteint "
                    f"{french.percent(b['accuracy'])} d'exactitude sur les {french.integer(b['n_test'])} images de "
                    f"test ; la meilleure tête entraînée atteint {french.percent(best)}, soit "
                    f"{french.points(gain)} apportés par l'entraînement de la tête.")
    reason = b.get("reason") or ""
    if "downloadable" in reason:
        why = ("elle exige le fichier `xception_weights_tf_dim_ordering_tf_kernels.h5` (Xception avec son "
               "classifieur ImageNet), ni présent dans `~/.keras/models` ni téléchargeable ; copiez-le là puis "
               "relancez `lionpoc study`")
    elif "weights" in reason or "ImageNet" in reason:
        why = ("elle exige les poids ImageNet du classifieur de Xception, que cette étude n'utilisait pas ; "
               "`lionpoc study` avec les poids ImageNet la calcule")
    else:
        why = reason or "raison inconnue"
    return Text(f"La référence sans entraînement n'a pas pu être calculée ici ({why}). L'étude de 2023 partait "
                f"d'un modèle antérieur qui atteignait {french.percent(d.old['baseline_accuracy'], 0)}.")


# ---------------------------------------------------------------------------------- performance
def performance(d: ReportData) -> Text:
    """The study's own timings (``study.json``), compared with the 2023 total, ratio as measured."""
    s = d.study
    if not s:
        return Text("Ce dossier ne contient pas `study.json` : relancez `lionpoc study` pour mesurer l'étude.")
    m = s["machine"]
    features = s["features_extraction_seconds"]
    cached = s.get("features_from_cache")
    text = [f"L'étude qui a produit ces résultats a tourné sur {m['cores']} cœurs ({m['cpu']}) : "
            f"{french.integer(s['images'])} images de {s['image_size']} pixels, "
            f"{french.plural(len(s['optimizers']), 'optimiseur')}, {french.plural(s['seeds'], 'graine')} et "
            f"{s['grid_size']} configurations par grille."]
    text.append(f"Le passage unique de Xception sur les images a pris {french.seconds(features)}"
                + (" (lors d'une étude précédente : les caractéristiques venaient du cache)" if cached else "") + ".")
    if s.get("executions"):
        ratio = s["trainings_seconds"] / features if features > 0 else math.nan
        what = "les têtes et l'ajustement fin du bloc 14" if s.get("fine_tune") else "les têtes"
        text.append(f"Tous les entraînements ({what}) ont ensuite pris {french.seconds(s['trainings_seconds'])} "
                    f"de temps écoulé, soit {french.number(ratio, 2)} fois ce passage.")
    else:
        text.append("Aucun entraînement n'a été refait : tous les essais étaient déjà faits avec les mêmes entrées.")
    total = s["total_seconds"]
    old = d.old["total_minutes"] * 60
    text.append(f"L'étude complète a duré {french.seconds(total)}, contre {d.old['total_minutes']} minutes pour les "
                f"trois entraînements de 2023 sur {d.old['cores']} cœurs : un facteur {french.number(old / total, 0)} "
                f"mesuré tel quel, alors que l'étude actuelle fait {french.plural(s['seeds'], 'graine')} et une grille de "
                f"{s['grid_size']} configurations par optimiseur.")
    if s.get("smoke"):
        text.append("Il s'agit d'une étude de démonstration, sur de petites images synthétiques.")
    return Text(" ".join(text))


def cluster(d: ReportData) -> Text:
    """Where the study's tasks ran when it used a Dask cluster, its speed-up against the sum of the task
    times, and the links to each seed's executed notebook; nothing for a study on one machine."""
    c = (d.study or {}).get("cluster")
    if not c:
        return Text("")
    wall = sum(c["phases_seconds"].values())
    gpus = f"{c['gpus']} GPU" if c["gpus"] else "sans GPU"
    threads = french.plural(c["threads"], "fil d'exécution", "fils d'exécution")
    what = "une exécution du carnet par optimiseur et par graine"
    if "features" in c["phases_seconds"]:
        what = "le passage de Xception par lots d'images, puis " + what
    text = (f"Cette étude a confié ses tâches ({what}) à une grappe Dask de {french.plural(c['workers'], 'travailleur')} "
            f"({threads}, {gpus}, {french.plural(len(c['hosts']), 'machine')})\u00a0: "
            f"{french.plural(len(c['tasks']), 'tâche')} totalisant {french.seconds(c['busy_seconds'])} de calcul en "
            f"{french.seconds(wall)} de temps écoulé, soit une accélération de "
            f"{french.number(c['busy_seconds'] / wall if wall > 0 else math.nan, 1)}\u202f; les travailleurs sont restés "
            f"inoccupés {french.seconds(c['idle_seconds'])} en tout.")
    links = [f"[{LABELS.get(run.optimizer, run.optimizer)}, graine {run.seed}](../results/{run.optimizer}/seed-{run.seed}"
             f"/training.html)" for run in d.runs.itertuples()
             if (Path(run.path) / "training.html").is_file()]
    if links:
        text += " Le carnet exécuté de chaque graine est publié avec ce rapport\u00a0: " + ", ".join(links) + "."
    return Text(text)


def benchmark(d: ReportData) -> Text:
    b = d.benchmark
    if b is None:
        return Text("Pour des mesures plus fines (pas d'optimisation, débit de l'extraction), lancez `lionpoc bench` : "
                    "ses chiffres apparaîtront ici.")
    cache, extraction = b["cache"], b["extraction"]
    day = "/".join(reversed(b["created_at"][:10].split("-")))
    fraction = extraction["pipeline_fraction_of_bare"]
    words = {"negligible": "le décodage des images, fait en parallèle, ne freine presque pas le modèle",
             "some": "le décodage des images freine un peu le modèle",
             "strong": "le décodage des images freine nettement le modèle"}[decoding(fraction)]
    naive = cache["naive_epoch_seconds_per_image"] * cache["train_vectors"]
    return Text(f"`lionpoc bench`, le {day} sur {b['machine']['cores']} cœurs, à {cache['image_size']} pixels : une "
                f"époque de tête sur les {french.integer(cache['train_vectors'])} vecteurs en cache prend "
                f"{french.seconds(cache['cached_epoch_seconds'])} (sa part d'une époque où les "
                f"{cache['grid_size']} configurations s'entraînent ensemble), contre environ {french.seconds(naive)} "
                f"si chaque époque refaisait passer les images dans Xception (mesuré sur {cache['images']} images), "
                f"soit un facteur {french.number(cache['speedup'], 0)}. L'extraction traite "
                f"{french.number(extraction['pipeline_images_per_second'], 1)} images par seconde, "
                f"{french.percent(fraction, 0)} du débit du seul passage avant : {words}.")


def notebook_links(d: ReportData) -> Text:
    """Links to each optimizer's executed notebook (HTML view and .ipynb), relative to the report."""
    lines = []
    for name in d.optimizers:
        n = int((d.runs["optimizer"] == name).sum())
        rel = f"../results/{name}/training"
        lines.append(f"- {LABELS[name]} ({french.plural(n, 'graine')}) : [carnet exécuté]({rel}.html) ([.ipynb]({rel}.ipynb))")
    return Text("\n".join(lines) if lines else "Aucun carnet exécuté.")


# ---------------------------------------------------------------------------------- fine-tuning
CHANCE = 1 / 15


def collapsed(accuracy: float) -> bool:
    """Fine-tuning destroyed the head: accuracy at most 1.5 x chance (1/15)."""
    return accuracy <= 1.5 * CHANCE


def separates(head_spread: float, tuned_spread: float, any_significant: bool) -> str:
    """Does fine-tuning tell the optimizers apart more than the head alone? ``yes`` when a paired test
    is significant after fine-tuning; ``wider`` when the spread of their accuracies at least doubles
    without a significant test; ``no`` otherwise."""
    if any_significant:
        return "yes"
    return "wider" if tuned_spread >= 2 * max(head_spread, 1e-9) else "no"


def fine_tune(d: ReportData) -> Text:
    """The "Ajustement fin" section's text: how to get it, or what it found."""
    if d.fine_tune.empty:
        return Text("Ces résultats ne comportent pas d'ajustement fin : `lionpoc study --fine-tune` l'ajoute (le bloc 14 "
                    "de Xception et la tête, entraînés sur les sorties du bloc 13 mises en cache), au prix d'environ "
                    "une minute et demie par époque sur deux cœurs à 299 pixels.")
    f = d.fine_tune.set_index("optimizer")
    s = d.study or {}
    epochs = s.get("fine_tune_epochs") or int(f["epochs_run"].max())
    params = french.integer(int(f["trainable_parameters"].iloc[0]))
    text = [f"Entraîner la tête seule revient à une régression logistique sur des caractéristiques fixes : un problème "
            f"convexe, où tout optimiseur raisonnable finit au même endroit. L'ajustement fin ouvre le bloc 14 de "
            f"Xception, deux convolutions séparables avec normalisation par lots, soit {params} poids entraînés avec "
            f"la tête. Il part, pour chaque optimiseur et chaque graine, de la tête retenue ; la normalisation par "
            f"lots reste figée, en mode inférence, et les blocs 1 à 13 ne tournent plus jamais : le bloc 14 lit "
            f"leurs sorties, mises en cache lors du passage unique. Chaque optimiseur dispose du même budget : trois "
            f"taux d'apprentissage autour du dixième de celui de sa tête, sa décroissance (ou sa pénalité L2) "
            f"conservée, l'arrêt précoce sur la perte de validation et au plus {french.plural(epochs, 'époque')} "
            f"(@tbl-ajustement)."]
    head_spread = float(d.summary["test_accuracy_mean"].max() - d.summary["test_accuracy_mean"].min()) \
        if not d.summary.empty else 0.0
    tuned_spread = float(f["after_mean"].max() - f["after_mean"].min())
    significant = bool(len(d.fine_tune_pairs)) and any(verdict(p) == "significant"
                                                         for p in d.fine_tune_pairs.to_dict("records"))
    if all(collapsed(v) for v in f["after_mean"]):
        text.append(f"Ici, l'ajustement fin a ramené tous les optimiseurs au niveau du hasard "
                    f"({french.percent(CHANCE)}) : le bloc 14 s'est écarté de ce que la tête savait exploiter plus vite "
                    f"qu'il n'apprenait, et la validation n'a retenu aucune époque meilleure que les premières. Le "
                    f"budget (taux d'apprentissage, époques) est à revoir avant d'en tirer quoi que ce soit.")
    else:
        best = f["after_mean"].idxmax()
        words = {"yes": "sépare les optimiseurs, ce que la tête seule ne faisait pas",
                 "wider": "écarte davantage les optimiseurs que la tête seule, sans qu'aucun test apparié ne soit "
                          "significatif",
                 "no": "ne les sépare pas davantage que la tête seule"}[separates(head_spread, tuned_spread, significant)]
        text.append(f"Après ajustement, {LABELS[best]} obtient la meilleure exactitude "
                    f"({french.percent(f.loc[best, 'after_mean'])}) ; l'écart entre optimiseurs vaut "
                    f"{french.points(tuned_spread).lstrip('+')} contre {french.points(head_spread).lstrip('+')} "
                    f"pour la tête seule : "
                    f"l'ajustement fin {words} (@tbl-ajustement-paires).")
    if "lion" in f.index and len(f) > 1:
        others = f.drop(index="lion")
        saving = others["state_bytes"].mean() - f.loc["lion", "state_bytes"]
        text.append(f"Côté coût (@tbl-ajustement-couts), une époque prend {french.seconds(f.loc['lion', 'seconds_per_epoch'])} "
                    f"avec Lion contre {french.seconds(others['seconds_per_epoch'].mean())} en moyenne pour les autres ; "
                    f"son état occupe {french.bytes_(f.loc['lion', 'state_bytes'])}, soit "
                    f"{french.bytes_(saving)} de moins qu'Adam ou AdamW, qui gardent deux tenseurs par poids.")
    text.append("La @fig-ajustement montre les courbes de la première graine, et le @tbl-ajustement-vitesse le "
                "nombre d'époques nécessaires pour atteindre 95 % et 99 % de la meilleure exactitude de validation : "
                "c'est là que « converger plus vite » devient une mesure.")
    return Text(" ".join(text))


def limits(d: ReportData) -> Text:
    """What the study does not cover, given what these results hold."""
    tuned = not d.fine_tune.empty
    return Text("Cette étude a ses limites. Elle ne porte que sur quinze races et une seule architecture ; les grilles "
                "de réglage restent petites ; avec quelques centaines d'images de test, un écart d'un ou deux points "
                "est difficile à distinguer du hasard. "
                + ("L'ajustement fin se limite au dernier bloc, avec un budget de trois taux d'apprentissage. "
                   if tuned else
                   "Seule la tête est entraînée ici : l'ajustement fin du dernier bloc (`lionpoc study --fine-tune`), "
                   "où les optimiseurs peuvent vraiment différer, reste à lancer. ")
                + "Une suite naturelle serait d'ajuster davantage de blocs sur GPU, avec les poids ImageNet, et "
                  "d'élargir la comparaison à d'autres réseaux.")


def lion_2023(d: ReportData) -> Text:
    """The only per-breed figures the 2023 study gives for Lion: ranges over the breeds."""
    r = d.old["lion_ranges"]
    fmt = lambda v: "1" if v == 1 else french.number(v, 2)  # noqa: E731
    span = lambda v: f"de {fmt(v[0])} à {fmt(v[1])}"  # noqa: E731
    return Text(f"l'étude de 2023 ne donne pour Lion que des fourchettes : précision {span(r['precision'])}, "
                f"rappel {span(r['recall'])}")
