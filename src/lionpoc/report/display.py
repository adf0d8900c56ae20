"""What the executed notebook (``analysis/train.ipynb``) shows for each seed, in French.

The notebook is published with the report: its numbers are written the French way (decimal comma,
percentages), its tables have French headers, and the runs' English progress lines stay in the study's
log (``quiet``) instead of the page.
"""
from __future__ import annotations

import pandas as pd

from lionpoc.report import french

TUNING_COLUMNS = {"learning_rate": "Taux η", "weight_decay": "Décroissance", "l2": "Pénalité L2",
                  "val_accuracy": "Exactitude (validation)", "val_loss": "Perte (validation)",
                  "epochs_run": "Époques", "best_epoch": "Retenue", "seconds": "Durée (part de l'époque commune)",
                  "chosen": "Choisie"}


def quiet(*_args, **_kwargs) -> None:
    """A ``log`` that prints nothing: the notebook page shows results, not progress lines."""


def tuning(table: pd.DataFrame) -> pd.DataFrame:
    """The grid's table with French headers and numbers (as text, so that Jupyter keeps them)."""
    shown = pd.DataFrame(index=table.index)
    for column, values in table.items():
        name = TUNING_COLUMNS.get(column, column)
        if column in ("learning_rate", "weight_decay", "l2"):
            shown[name] = [french.scientific(float(v)) if pd.notna(v) else "—" for v in values]
        elif column == "val_accuracy":
            shown[name] = [french.percent(float(v)) for v in values]
        elif column == "val_loss":
            shown[name] = [french.number(float(v), 3) for v in values]
        elif column == "seconds":
            shown[name] = [french.seconds(float(v)) for v in values]
        elif column == "chosen":
            shown[name] = ["oui" if v else "" for v in values]
        else:
            shown[name] = [french.integer(float(v)) for v in values]
    return shown.reset_index(drop=True)


def seed_summary(metrics: dict, kept: bool) -> str:
    """The seed's heading and scores, in Markdown."""
    state = "reprise d'une étude précédente (mêmes entrées)" if kept else "entraînée à l'instant"
    text = (f"### Graine {metrics['seed']} ({state})\n\nExactitude sur le test : "
            f"**{french.percent(metrics['test_accuracy'])}** ; F1 macro : {french.percent(metrics['test_macro_f1'])}")
    if "ft_test_accuracy" in metrics:
        from lionpoc.model import backbones

        part = backbones.spec(metrics.get("backbone")).fine_tune_label
        text += (f"\n\nAjustement fin ({part} et tête) : exactitude sur le test "
                 f"**{french.percent(metrics['ft_test_accuracy'])}** "
                 f"(taux {french.scientific(float(metrics['ft_learning_rate']))}, "
                 f"{french.plural(int(metrics['ft_epochs_run']), 'époque')}).")
    return text


def seed(run) -> None:
    """Display one seed (a ``study.runs.SeedRun``): scores, the grid's table and the saved figures."""
    from IPython.display import Image, Markdown, display

    display(Markdown(seed_summary({**run.metrics, "seed": run.seed}, run.kept)))
    display(tuning(run.tuning))
    for name in ("history", "confusion", "fine_tune_history"):
        if (run.folder / f"{name}.png").is_file():
            display(Image(filename=str(run.folder / f"{name}.png"), width=700))


def seeds(runs, label: str | None = None) -> None:
    """Display every seed (``seed``), then the figures of all of them, drawn once for the optimizer: the
    validation curves of each seed's chosen configuration (and of its fine-tuning), and the confusion
    matrix of the test split summed over the seeds."""
    import io

    from IPython.display import Image, Markdown, display

    from lionpoc.study import figures

    for run in runs:
        seed(run)
    if not runs:
        return
    name = runs[0].metrics.get("optimizer", "")
    label = label or figures.LABELS[name]
    colour = figures.colour_of(name, None)
    count = french.plural(len(runs), "graine")
    drawn = [("Courbes de validation de la configuration retenue, par graine",
              figures.seeds_history({r.seed: _history(r.folder / "history.csv", r.metrics["best_epoch"])
                                     for r in runs}, f"{label}, {count}", colour))]
    tuned = [r for r in runs if (r.folder / "fine_tune_history.csv").is_file()]
    if tuned:
        drawn.append(("Ajustement fin : courbes de validation, par graine",
                      figures.seeds_history({r.seed: _history(r.folder / "fine_tune_history.csv",
                                                              r.metrics["ft_best_epoch"]) for r in tuned},
                                            f"{label}, ajustement fin", colour)))
    summed = sum(pd.read_csv(r.folder / "confusion.csv", index_col=0) for r in runs)
    drawn.append(("Matrice de confusion du test, sommée sur les graines",
                  figures.confusion(summed, f"{label}, {count} (test)", words=_words(summed))))
    display(Markdown("### Toutes les graines"))
    for caption, fig in drawn:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100)
        figures.close(fig)
        display(Markdown(f"*{caption}*"), Image(data=buffer.getvalue(), width=700))


def _history(path, best: int):
    return pd.read_csv(path), int(best)


def split_counts(table: pd.DataFrame, dataset=None) -> pd.DataFrame:
    """Images per class (the report's names, study order) and per part of the split; ``dataset``: the
    study's data set (``Prepared.dataset``; the 15 breeds when not given)."""
    from lionpoc.data import datasets

    dataset = dataset or datasets.STANFORD_DOGS_15
    counts = pd.crosstab(table["breed"], table["split"]).reindex(index=list(dataset.folders),
                                                                   columns=["train", "val", "test"], fill_value=0)
    counts.index = list(dataset.display)
    counts.columns = ["Entraînement", "Validation", "Test"]
    counts.index.name = french.capital(dataset.words[0])
    return counts


def _words(confusion: pd.DataFrame) -> tuple[str, str]:
    """``("race", "races")`` when the classes of a confusion matrix are breeds, else ``("classe", "classes")``."""
    from lionpoc.data import breeds

    return ("race", "races") if set(confusion.index) <= set(breeds.NAMES) else ("classe", "classes")
