"""The backbone registry: each entry builds, preprocesses, cuts for fine-tuning and checks weights files."""
import numpy as np
import pytest

from conftest import run_config, spec

from lionpoc.errors import LionpocError
from lionpoc.model import backbones, features, finetune, memory


def test_the_registry_knows_each_backbone_and_refuses_others():
    assert backbones.names()[0] == backbones.DEFAULT == "xception"
    x, m = backbones.spec("xception"), backbones.spec("mobilenet_v2")
    assert (x.label, x.default_size, x.min_size, x.feature_dim) == ("Xception", 299, 71, 2048)
    assert (m.label, m.default_size, m.min_size, m.feature_dim) == ("MobileNetV2", 224, 32, 1280)
    assert backbones.spec(None) is x
    assert m.imagenet_weights()[0] == "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"
    assert m.imagenet_weights(160)[0].endswith("_1.0_160_no_top.h5") and m.imagenet_weights(100)[0].endswith("224_no_top.h5")
    assert x.imagenet_weights(150)[1].endswith("/xception/xception_weights_tf_dim_ordering_tf_kernels_notop.h5")
    with pytest.raises(LionpocError, match="unknown backbone 'resnet'; valid backbones are: xception, mobilenet_v2"):
        backbones.spec("resnet")
    assert backbones.record("mobilenet_v2", True) == {"backbone": "mobilenet_v2", "backbone_label": "MobileNetV2",
                                                      "feature_dim": 1280, "pretrained": True}


def test_the_image_size_follows_the_backbone_and_its_minimum():
    assert run_config("lion").image_size == 299 and run_config("lion", backbone="mobilenet_v2").image_size == 224
    assert run_config("lion", backbone="mobilenet_v2", image_size=None).image_size == 224
    assert run_config("lion", backbone="mobilenet_v2", image_size=32).image_size == 32
    with pytest.raises(LionpocError, match=r"at least 32 pixels \(MobileNetV2's minimum\), got 31"):
        run_config("lion", backbone="mobilenet_v2", image_size=31)
    with pytest.raises(LionpocError, match=r"at least 71 pixels \(Xception's minimum\), got 70"):
        run_config("lion", image_size=70)
    with pytest.raises(LionpocError, match="unknown backbone"):
        run_config("lion", backbone="vgg")


def test_mobilenet_v2_preprocesses_to_minus_one_one_and_pools_1280_features():
    batch = np.array([[[[0.0, 127.5, 255.0]]]], np.float32)
    np.testing.assert_allclose(features.preprocess(batch, "mobilenet_v2"), [[[[-1.0, 0.0, 1.0]]]], atol=1e-6)
    base = features.build_base("none", 32, "mobilenet_v2")
    assert not base.trainable and tuple(base.output.shape) == (None, 1280)
    assert tuple(backbones.spec("mobilenet_v2").cut(base).shape) == (None, 1, 1, 160)  # block_15_add's output


def test_the_cache_is_keyed_by_the_backbone(synthetic_dir, tmp_path):
    from lionpoc import data

    table, _ = data.list_images(synthetic_dir)
    files = table["file"].tolist()[::12]
    quiet = lambda *_: None  # noqa: E731
    mobile = features.load_or_extract(files, synthetic_dir, 48, "none", tmp_path, log=quiet, backbone="mobilenet_v2")
    assert mobile.values.shape == (15, 1280) and mobile.backbone == "mobilenet_v2" and mobile.pretrained is False
    assert np.load(mobile.activations, mmap_mode="r").shape == (15, 2, 2, 160)
    assert mobile.activations.name.startswith("activations-mobilenet_v2-")
    assert features.cache_key(files, synthetic_dir, 48, "none", "xception") != mobile.key
    again = features.load_or_extract(files, synthetic_dir, 48, "none", tmp_path, log=quiet, backbone="mobilenet_v2")
    assert again.from_cache and again.backbone == "mobilenet_v2" and again.pretrained is False
    np.testing.assert_array_equal(again.values, mobile.values)


def test_mobilenet_v2_fine_tuning_retrains_block_16_and_the_last_convolution_on_the_cached_output(synthetic_dir):
    """Block 16 + Conv_1 + head on block_15_add's output gives what the whole network + head gives."""
    from lionpoc import data
    from lionpoc.model.head import build_head

    table, _ = data.list_images(synthetic_dir)
    images = np.stack([features.load_image(synthetic_dir / f, 64) for f in table["file"][:8]])
    batch = features.preprocess(images, "mobilenet_v2")
    base = features.build_base("none", 64, "mobilenet_v2")
    pooled = base.predict(batch, verbose=0)
    head = build_head(pooled, 15)
    import keras

    cut = keras.Model(base.input, backbones.spec("mobilenet_v2").cut(base)).predict(batch, verbose=0)
    model = finetune.build(base, head, backbone="mobilenet_v2")
    np.testing.assert_allclose(model.predict(cut, verbose=0), head.predict(pooled, verbose=0), atol=1e-5)
    retrained = {v.path.split("/")[0] for v in model.trainable_variables}
    assert {"block_16_expand", "block_16_depthwise", "block_16_project", "Conv_1"} <= retrained
    assert not any(name.endswith(("_BN", "_bn")) for name in retrained)  # batch normalisation frozen
    convolutions = 160 * 960 + 3 * 3 * 960 + 960 * 320 + 320 * 1280
    assert sum(int(np.prod(v.shape)) for v in model.trainable_variables) == convolutions + 1280 * 15 + 15


def test_the_memory_table_counts_the_head_on_the_backbones_features():
    table = memory.optimizer_memory([spec("lion")],
                                    {"head": memory.head_model(backbones.spec("mobilenet_v2").feature_dim)})
    assert set(table["parameters"]) == {1280 * 15 + 15}
    assert memory.head_model().count_params() == 2048 * 15 + 15


@pytest.mark.slow
def test_a_weights_file_must_fit_the_chosen_backbone(tmp_path):
    xception = tmp_path / "xception.weights.h5"
    features.build_base("none", 71).save_weights(xception)
    with pytest.raises(LionpocError, match=r"does not hold the weights of MobileNetV2 without its top, the backbone "
                                           r"chosen with --backbone mobilenet_v2"):
        features.check_weights(str(xception), "mobilenet_v2", 224)
    junk = tmp_path / "random.weights.h5"
    junk.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(LionpocError, match="is not a Keras weights file for MobileNetV2 without its top"):
        features.check_weights(str(junk), "mobilenet_v2")
    features.check_weights(str(xception), "xception", 71)  # fits: no error
    assert backbones.is_pretrained(str(xception), "xception") is False  # random weights saved to a file
    assert backbones.is_pretrained("imagenet") and not backbones.is_pretrained("none")


def test_the_shared_imagenet_file_loads_into_mobilenet_v2_only(mobilenet_weights):
    features.check_weights(str(mobilenet_weights), "mobilenet_v2", 224)
    assert backbones.is_pretrained(str(mobilenet_weights), "mobilenet_v2") is True
    with pytest.raises(LionpocError, match="does not hold the weights of Xception without its top"):
        features.check_weights(str(mobilenet_weights), "xception", 299)


def test_the_baseline_names_the_backbones_classifier():
    import pandas as pd

    from lionpoc.model import baseline

    result = baseline.zero_training_accuracy(pd.DataFrame({"file": ["a.jpg"], "label": [0]}), None, "/x.h5",
                                             backbone="mobilenet_v2")
    assert result["available"] is False and result["backbone"] == "mobilenet_v2"
    assert "MobileNetV2's classifier" in result["reason"]
