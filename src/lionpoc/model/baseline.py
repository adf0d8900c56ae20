"""Zero-training baseline: the backbone's own ImageNet classifier, restricted to the study's classes.

Stanford Dogs is a subset of ImageNet, so the pretrained classifier already knows these breeds:
taking, among its 1,000 outputs, the largest of the 15 that correspond to our breeds gives an
accuracy without any training. Comparing it with the trained heads shows what transfer adds. A data set
whose classes are not all ImageNet classes (``DataSet.imagenet_index`` None) has no such baseline.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lionpoc.data import datasets
from lionpoc.model import backbones
from lionpoc.model import features


def class_indices(dataset: datasets.DataSet = datasets.STANFORD_DOGS_15) -> list[int]:
    """ImageNet-1k indices of the data set's classes, in study order (the 15 breeds by default)."""
    return list(dataset.imagenet_index)


def restrict(probabilities: np.ndarray, dataset: datasets.DataSet = datasets.STANFORD_DOGS_15) -> np.ndarray:
    """Predicted study label from 1,000 ImageNet probabilities, looking at the study's classes only."""
    return np.asarray(probabilities)[:, class_indices(dataset)].argmax(axis=1)


NOT_IMAGENET = "the classes of this data set are not all ImageNet classes, so ImageNet's classifier cannot name them"


def unavailable(weights: str, backbone: str = backbones.DEFAULT,
                dataset: datasets.DataSet = datasets.STANFORD_DOGS_15) -> str | None:
    """Why the baseline cannot be computed here, or None when it can."""
    spec = backbones.spec(backbone)
    if dataset.imagenet_index is None:
        return NOT_IMAGENET
    if weights != "imagenet":
        return (f"needs the ImageNet weights of {spec.label}'s classifier (this study used weights={weights}, "
                "without the classifier)")
    if not features.imagenet_file_available(spec.classifier_file):
        return (f"needs the ImageNet weights of {spec.label}'s classifier ({spec.classifier_file}), which are "
                "neither in ~/.keras/models nor downloadable here")
    return None


def zero_training_accuracy(test: pd.DataFrame, root: Path, weights: str, batch_size: int = 32,
                           backbone: str = backbones.DEFAULT,
                           dataset: datasets.DataSet = datasets.STANFORD_DOGS_15) -> dict:
    """Accuracy of the restricted ImageNet classifier on the test rows; needs the ImageNet weights."""
    spec = backbones.spec(backbone)
    reason = unavailable(weights, backbone, dataset)
    if reason:
        return {"available": False, "accuracy": None, "n_test": len(test), "backbone": spec.name, "reason": reason,
                "imagenet_classes": dataset.imagenet_index is not None}
    model = spec.build("imagenet", spec.classifier_size, include_top=True)
    paths = [root / f for f in test["file"]]
    predicted, kept = [], []
    # The classifier only accepts the side it was trained at (Xception 299, MobileNetV2 224).
    for ok, batch, _failed in features.iter_batches(paths, spec.classifier_size, batch_size, backbone=spec.name):
        if len(ok):
            predicted.extend(restrict(model.predict_on_batch(batch), dataset))
            kept.extend(ok)
    truth = test["label"].to_numpy()[kept]
    accuracy = float(np.mean(np.asarray(predicted) == truth))
    return {"available": True, "accuracy": accuracy, "n_test": len(kept), "backbone": spec.name, "reason": None,
            "imagenet_classes": True}
