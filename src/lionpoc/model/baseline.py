"""Zero-training baseline: the backbone's own ImageNet classifier, restricted to the 15 breeds.

Stanford Dogs is a subset of ImageNet, so the pretrained classifier already knows these breeds:
taking, among its 1,000 outputs, the largest of the 15 that correspond to our breeds gives an
accuracy without any training. Comparing it with the trained heads shows what transfer adds.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lionpoc.data import breeds
from lionpoc.model import backbones
from lionpoc.model import features


def class_indices() -> list[int]:
    """ImageNet-1k indices of the 15 breeds, in study order."""
    return [breeds.IMAGENET_INDEX[breeds.wnid(folder)] for folder in breeds.FOLDERS]


def restrict(probabilities: np.ndarray) -> np.ndarray:
    """Predicted study label (0..14) from 1,000 ImageNet probabilities, looking at our 15 classes only."""
    return np.asarray(probabilities)[:, class_indices()].argmax(axis=1)


def unavailable(weights: str, backbone: str = backbones.DEFAULT) -> str | None:
    """Why the baseline cannot be computed here, or None when it can."""
    spec = backbones.spec(backbone)
    if weights != "imagenet":
        return (f"needs the ImageNet weights of {spec.label}'s classifier (this study used weights={weights}, "
                "without the classifier)")
    if not features.imagenet_file_available(spec.classifier_file):
        return (f"needs the ImageNet weights of {spec.label}'s classifier ({spec.classifier_file}), which are "
                "neither in ~/.keras/models nor downloadable here")
    return None


def zero_training_accuracy(test: pd.DataFrame, root: Path, weights: str, batch_size: int = 32,
                           backbone: str = backbones.DEFAULT) -> dict:
    """Accuracy of the restricted ImageNet classifier on the test rows; needs the ImageNet weights."""
    spec = backbones.spec(backbone)
    reason = unavailable(weights, backbone)
    if reason:
        return {"available": False, "accuracy": None, "n_test": len(test), "backbone": spec.name, "reason": reason}
    model = spec.build("imagenet", spec.classifier_size, include_top=True)
    paths = [root / f for f in test["file"]]
    predicted, kept = [], []
    # The classifier only accepts the side it was trained at (Xception 299, MobileNetV2 224).
    for ok, batch, _failed in features.iter_batches(paths, spec.classifier_size, batch_size, backbone=spec.name):
        if len(ok):
            predicted.extend(restrict(model.predict_on_batch(batch)))
            kept.extend(ok)
    truth = test["label"].to_numpy()[kept]
    accuracy = float(np.mean(np.asarray(predicted) == truth))
    return {"available": True, "accuracy": accuracy, "n_test": len(kept), "backbone": spec.name, "reason": None}
