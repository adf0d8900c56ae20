"""Evaluation on the test split with scikit-learn: scores, per-class report, confusion, predictions."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, f1_score

from lionpoc.data import breeds


@dataclass
class Evaluation:
    accuracy: float
    macro_f1: float
    report: pd.DataFrame        # one row per breed + averages: precision, recall, f1-score, support
    confusion: pd.DataFrame     # true breed (rows) x predicted breed (columns), counts
    predictions: pd.DataFrame   # file, true, predicted, correct, confidence, p_true


def evaluate(y_true: np.ndarray, probabilities: np.ndarray, files: list[str], names=breeds.NAMES) -> Evaluation:
    """Score predicted class probabilities against the true labels; ``names``: the classes in label order
    (the data set's run-file names; the 15 breeds by default).

    Per test image, ``confidence`` is the predicted class's probability (calibration reads it with
    ``correct``) and ``p_true`` the true class's probability, unrounded (the image's loss is
    ``-log(p_true)``: a probability rounded to 0 would make it infinite).
    """
    names = list(names)
    y_pred = probabilities.argmax(axis=1)
    labels = list(range(len(names)))
    report = classification_report(y_true, y_pred, labels=labels, target_names=names,
                                   output_dict=True, zero_division=0)
    report_table = pd.DataFrame({k: v for k, v in report.items() if isinstance(v, dict)}).T
    report_table.index.name = "breed"
    confusion = pd.DataFrame(confusion_matrix(y_true, y_pred, labels=labels),
                             index=pd.Index(names, name="true"), columns=names)
    predictions = pd.DataFrame({
        "file": files,
        "true": [names[i] for i in y_true],
        "predicted": [names[i] for i in y_pred],
        "correct": (y_true == y_pred).astype(int),
        "confidence": probabilities.max(axis=1).round(6),
        "p_true": probabilities[np.arange(len(y_true)), y_true].astype(float),
    })
    return Evaluation(float(accuracy_score(y_true, y_pred)),
                      float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
                      report_table, confusion, predictions)
