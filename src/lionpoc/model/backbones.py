"""The frozen backbones a study can put under its heads: what each one is, written once.

An entry knows how Keras builds the network without its classifier, its input sizes, its preprocessing,
the width of its pooled features, where its ImageNet weights come from (for the offline message and the
zero-training baseline), how the report names and cites it, and where fine-tuning cuts it: the layers
listed in ``fine_tune_layers`` are retrained, the input of the first of them is what the one pass caches.
Everything else asks this registry (``spec(name)``) instead of assuming Xception.

Xception (the question of this study) is the default; MobileNetV2 is the one backbone whose ImageNet
weights exist on the offline machines (``../shared/weights``), so the pretrained regime can be run there.
"""
from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass, field
from pathlib import Path

from lionpoc.errors import LionpocError

KERAS_APPLICATIONS = "https://storage.googleapis.com/tensorflow/keras-applications/"


@dataclass(frozen=True)
class BackboneSpec:
    """One backbone of ``keras.applications``, as the study uses it."""

    name: str                     # the --backbone value, the cache key's and the results' name
    label: str                    # how the report names it ("MobileNetV2"), French and English alike
    citation: str                 # key in report/references.bib
    constructor: str              # attribute of keras.applications
    preprocessing: str            # module of keras.applications holding its preprocess_input
    default_size: int             # input side in pixels it was trained at
    min_size: int                 # smallest input side Keras accepts for it
    feature_dim: int              # width of its global-average-pooled output
    imagenet_file: str            # Keras's ImageNet weights without the classifier ({rows}: the side they fit)
    imagenet_url: str             # where Keras downloads them from (the folder; the file name follows)
    classifier_file: str          # Keras's ImageNet weights with the classifier (the zero-training baseline)
    fine_tune_layers: tuple       # retrained in this order on the cached activations (batch normalisation frozen)
    fine_tune_label: str          # the retrained part, in French, without article ("bloc 14")
    cached_label: str             # the cached activations, in French, without article ("sorties du bloc 13")
    arguments: dict = field(default_factory=dict)   # extra keyword arguments of the constructor
    imagenet_sizes: tuple = ()    # sides with their own ImageNet file (others get the default side's)

    @property
    def classifier_size(self) -> int:
        """The ImageNet classifier only accepts the size it was trained at."""
        return self.default_size

    def imagenet_weights(self, image_size: int | None = None) -> tuple[str, str]:
        """File name and URL of the ImageNet weights without top that Keras fetches for this input side."""
        rows = image_size if image_size in self.imagenet_sizes else self.default_size
        name = self.imagenet_file.format(rows=rows)
        return name, self.imagenet_url + name

    def build(self, weights, image_size: int, include_top: bool = False):
        """The Keras model: without top, global-average pooled (``weights`` is ``"imagenet"`` or None)."""
        import keras

        make = getattr(keras.applications, self.constructor)
        if include_top:
            return make(include_top=True, weights=weights, **self.arguments)
        return make(include_top=False, weights=weights, input_shape=(image_size, image_size, 3), pooling="avg",
                    **self.arguments)

    def preprocess(self, batch):
        """The backbone's own preprocessing of a float batch of RGB pixels in [0, 255] (a copy)."""
        return importlib.import_module(self.preprocessing).preprocess_input(batch.copy())

    def cut(self, base):
        """The tensor that the pass caches for fine-tuning: the input of the first retrained layer."""
        return base.get_layer(self.fine_tune_layers[0]).input


XCEPTION = BackboneSpec(
    name="xception", label="Xception", citation="chollet2017xception", constructor="Xception",
    preprocessing="keras.applications.xception", default_size=299, min_size=71, feature_dim=2048,
    imagenet_file="xception_weights_tf_dim_ordering_tf_kernels_notop.h5", imagenet_url=KERAS_APPLICATIONS + "xception/",
    classifier_file="xception_weights_tf_dim_ordering_tf_kernels.h5",
    # Block 14: two separable convolutions with batch normalisation, after the last residual add of block 13.
    fine_tune_layers=("block14_sepconv1", "block14_sepconv1_bn", "block14_sepconv1_act",
                      "block14_sepconv2", "block14_sepconv2_bn", "block14_sepconv2_act"),
    fine_tune_label="bloc 14", cached_label="sorties du bloc 13")

MOBILENET_V2 = BackboneSpec(
    name="mobilenet_v2", label="MobileNetV2", citation="sandler2018mobilenetv2", constructor="MobileNetV2",
    preprocessing="keras.applications.mobilenet_v2", default_size=224, min_size=32, feature_dim=1280,
    imagenet_file="mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{rows}_no_top.h5",
    imagenet_url=KERAS_APPLICATIONS + "mobilenet_v2/", imagenet_sizes=(96, 128, 160, 192, 224),
    classifier_file="mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5",
    # After the output of block_15_add (7 x 7 x 160 at 224 px): the last inverted-residual block (16, no
    # residual: 160 -> 320 channels) and the final 1 x 1 convolution to 1,280 channels.
    fine_tune_layers=("block_16_expand", "block_16_expand_BN", "block_16_expand_relu",
                      "block_16_depthwise", "block_16_depthwise_BN", "block_16_depthwise_relu",
                      "block_16_project", "block_16_project_BN", "Conv_1", "Conv_1_bn", "out_relu"),
    fine_tune_label="bloc 16 et convolution 1 × 1 finale", cached_label="sorties du bloc 15",
    arguments={"alpha": 1.0})

BACKBONES = {b.name: b for b in (XCEPTION, MOBILENET_V2)}
DEFAULT = XCEPTION.name


def names() -> list[str]:
    """The valid --backbone values, the default first."""
    return list(BACKBONES)


def spec(name: str | None = None) -> BackboneSpec:
    """The registry entry of ``name`` (the default when None), or one clear sentence."""
    name = DEFAULT if name is None else name
    if name not in BACKBONES:
        raise LionpocError(f"unknown backbone {name!r}; valid backbones are: {', '.join(BACKBONES)}.")
    return BACKBONES[name]


def record(name: str | None, pretrained: bool | None) -> dict:
    """What ``study.json`` and every ``metrics.json`` say of the base the heads were trained on."""
    entry = spec(name)
    return {"backbone": entry.name, "backbone_label": entry.label, "feature_dim": entry.feature_dim,
            "pretrained": pretrained}


def is_pretrained(weights: str, backbone: str | None = None) -> bool:
    """Whether the base's weights were learnt (ImageNet, or a trained file) rather than drawn at random.

    ``"imagenet"`` is pretrained and ``"none"`` is not; a file is read: a network that never saw a batch
    has every batch-normalisation statistic at its initial value (means 0, variances 1), a trained one
    does not. This is what the report's random-weights warning depends on.
    """
    if weights == "imagenet":
        return True
    if weights == "none":
        return False
    return _file_is_trained(str(Path(weights).resolve()), Path(weights).stat().st_mtime_ns, spec(backbone).name)


@functools.lru_cache(maxsize=8)
def _file_is_trained(path: str, _mtime: int, backbone: str) -> bool:
    model = load_file(spec(backbone), Path(path), spec(backbone).default_size)
    return trained_statistics(model)


def trained_statistics(model) -> bool:
    """True when some batch normalisation of ``model`` holds statistics other than its initial ones."""
    import keras
    import numpy as np

    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            if np.any(layer.moving_mean.numpy() != 0) or np.any(layer.moving_variance.numpy() != 1):
                return True
    return False


def load_file(backbone: BackboneSpec, path: Path, image_size: int):
    """The backbone without top with the weights of ``path``; one clear sentence when the file does not fit."""
    import warnings

    if not path.is_file():
        raise LionpocError(f"weights file {path} does not exist; pass --weights imagenet, none, or an existing file.")
    model = backbone.build(None, image_size)
    try:
        with warnings.catch_warnings():  # Keras warns once per layer before raising: the sentence below says it
            warnings.simplefilter("ignore")
            model.load_weights(path)
    except ValueError as exc:
        first = str(exc).splitlines()[0][:160]
        raise LionpocError(f"{path} does not hold the weights of {backbone.label} without its top, the backbone "
                           f"chosen with --backbone {backbone.name} (Keras: {first}).") from None
    except Exception as exc:  # OSError or h5py errors: not a Keras weights file at all
        raise LionpocError(f"{path} is not a Keras weights file for {backbone.label} without its top "
                           f"({type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else 'unreadable'})."
                           ) from None
    return model
