"""Zero-training baseline: Xception's own ImageNet classifier, restricted to the 15 breeds.

Stanford Dogs is a subset of ImageNet, so the pretrained classifier already knows these breeds:
taking, among its 1,000 outputs, the largest of the 15 that correspond to our breeds gives an
accuracy without any training. Comparing it with the trained heads shows what transfer adds.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lionpoc.data import breeds
from lionpoc.model import features

IMAGENET_SIZE = 299  # the ImageNet classifier of Xception only accepts 299 x 299 inputs
CLASSIFIER_FILE = "xception_weights_tf_dim_ordering_tf_kernels.h5"  # Xception with its top, from Keras


def class_indices() -> list[int]:
    """ImageNet-1k indices of the 15 breeds, in study order."""
    return [breeds.IMAGENET_INDEX[breeds.wnid(folder)] for folder in breeds.FOLDERS]


def restrict(probabilities: np.ndarray) -> np.ndarray:
    """Predicted study label (0..14) from 1,000 ImageNet probabilities, looking at our 15 classes only."""
    return np.asarray(probabilities)[:, class_indices()].argmax(axis=1)


def zero_training_accuracy(test: pd.DataFrame, root: Path, weights: str, batch_size: int = 32) -> dict:
    """Accuracy of the restricted ImageNet classifier on the test rows; needs the ImageNet weights."""
    if weights != "imagenet":
        return {"available": False, "accuracy": None, "n_test": len(test),
                "reason": f"needs the ImageNet weights of Xception's classifier (this study used weights={weights})"}
    if not features.imagenet_file_available(CLASSIFIER_FILE):
        return {"available": False, "accuracy": None, "n_test": len(test),
                "reason": f"needs the ImageNet weights of Xception's classifier ({CLASSIFIER_FILE}), which are "
                          f"neither in ~/.keras/models nor downloadable here"}
    import keras

    model = keras.applications.Xception(include_top=True, weights="imagenet")
    paths = [root / f for f in test["file"]]
    predicted, kept = [], []
    for ok, batch, _failed in features.iter_batches(paths, IMAGENET_SIZE, batch_size):
        if len(ok):
            predicted.extend(restrict(model.predict_on_batch(batch)))
            kept.extend(ok)
    truth = test["label"].to_numpy()[kept]
    accuracy = float(np.mean(np.asarray(predicted) == truth))
    return {"available": True, "accuracy": accuracy, "n_test": len(kept), "reason": None}
