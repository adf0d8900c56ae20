"""Fine-tuning block 14 + head on the cached block-13 activations (71 px, random weights)."""
import numpy as np
import pytest

from conftest import run_config, spec

from lionpoc.study import runs
from lionpoc.model import features
from lionpoc.model import finetune


@pytest.fixture(scope="module")
def prepared(synthetic_dir, tmp_path_factory):
    cfg = run_config("lion", grid={"learning_rate": [3e-4], "weight_decay": [0.1]}, epochs=8, patience=3,
                    seeds=[0], image_size=71, weights="none", data_dir=str(synthetic_dir), fine_tune=True,
                    fine_tune_epochs=2, fine_tune_patience=1,
                    cache_dir=str(tmp_path_factory.mktemp("cache")), results_dir=str(tmp_path_factory.mktemp("r")))
    prep = runs.prepare(cfg, log=lambda *_: None)
    fit, _ = runs.tune(prep, 0, log=lambda *_: None)
    return prep, fit


def test_one_pass_fills_both_caches_with_the_expected_shapes(prepared):
    prep, _ = prepared
    activations = np.load(prep.features.activations, mmap_mode="r")
    assert activations.dtype == np.float16 and activations.shape == (len(prep.features.files), 3, 3, 1024)
    assert prep.features.activations.name == f"activations-xception-{prep.features.key}.npy"


def test_the_cached_path_equals_the_full_network_on_the_images(prepared, synthetic_dir):
    """Block 14 + head on cached block-13 outputs gives what base + head gives on the images (float16 tolerance),
    so before its first step the fine-tuning model has the chosen head's validation accuracy."""
    prep, fit = prepared
    rows = prep.table[prep.table["split"] == "val"]
    base = features.build_base("none", 71)
    model = finetune.build(base, fit.model)
    cached = model.predict(prep.features.cut(rows["file"].tolist()), verbose=0)
    images = np.stack([features.load_image(synthetic_dir / f, 71) for f in rows["file"]])
    direct = fit.model.predict(base.predict(features.preprocess(images), verbose=0), verbose=0)
    assert np.abs(cached - direct).max() < 0.02
    assert (cached.argmax(1) == direct.argmax(1)).mean() >= 0.97
    head_accuracy = (fit.model.predict(prep.part("val")[0], verbose=0).argmax(1) == rows["label"].to_numpy()).mean()
    assert (cached.argmax(1) == rows["label"].to_numpy()).mean() == pytest.approx(head_accuracy, abs=0.03)


@pytest.mark.slow
def test_only_block_14_and_the_head_change(prepared):
    prep, fit = prepared
    base = features.build_base("none", 71)
    before = {v.path: np.array(v.numpy()) for v in base.variables}
    head_before = [np.array(w) for w in fit.model.get_weights()]
    parts = {}
    for name in ("train", "val"):
        rows = prep.table[prep.table["split"] == name]
        parts[name] = (prep.features.cut(rows["file"].tolist()), rows["label"].to_numpy())
    tuned = finetune.fine_tune(base, fit.model, spec("lion"), fit.config, *parts["train"], *parts["val"], epochs=1,
                               patience=1, seed=0, log=lambda *_: None)
    changed = {v.path for v in base.variables if not np.array_equal(before[v.path], v.numpy())}
    assert changed and all(path.startswith("block14_") for path in changed), sorted(changed)[:5]
    assert not any("_bn/" in path for path in changed)  # batch normalisation frozen, statistics included
    assert any("sepconv1" in path for path in changed) and any("sepconv2" in path for path in changed)
    assert not all(np.array_equal(a, b) for a, b in zip(head_before, fit.model.get_weights()))
    assert tuned.trainable_parameters == 4_741_632 + 2048 * 15 + 15
    assert tuned.state_bytes == 4 * tuned.trainable_parameters  # Lion: one momentum per weight
    assert len(tuned.tuning) == 3 and tuned.tuning["chosen"].sum() == 1
    assert tuned.estimated_seconds > 0 and tuned.peak_memory_bytes > 0


def test_the_grid_keeps_each_optimizers_decay_and_a_tenth_of_its_learning_rate():
    points = finetune.grid({"learning_rate": 3e-4, "weight_decay": 1.0})
    assert [p["learning_rate"] for p in points] == pytest.approx([1e-5, 3e-5, 9e-5])
    assert all(p["weight_decay"] == 1.0 for p in points)
    assert finetune.grid({"learning_rate": 1e-3, "l2": 1e-4})[1] == pytest.approx({"learning_rate": 1e-4, "l2": 1e-4})


def test_adam_state_is_twice_lions_on_the_fine_tuned_weights(prepared):
    from lionpoc.model.optimizers import make_optimizer, state_bytes

    prep, fit = prepared
    model = finetune.build(features.build_base("none", 71), fit.model)
    sizes = {name: state_bytes(make_optimizer(spec(name), 1e-4), model.trainable_variables)["state_bytes"]
             for name in ("adam", "adamw", "lion")}
    assert sizes["adam"] == sizes["adamw"] == 2 * sizes["lion"]
