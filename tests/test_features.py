"""Preprocessing, the Xception base, the feature cache, and the --weights FILE path."""
import numpy as np
import pytest

from lionpoc import data
from lionpoc.model import features
from lionpoc.errors import LionpocError


def test_preprocessing_scales_to_minus_one_one(synthetic_dir):
    table, _ = data.list_images(synthetic_dir)
    image = features.load_image(synthetic_dir / table["file"][0], 80)
    assert image.shape == (80, 80, 3) and image.max() <= 255
    batch = features.preprocess(image[None])
    np.testing.assert_allclose(batch, image[None] / 127.5 - 1, atol=1e-6)


def test_cache_is_reused_and_rebuilt_when_inputs_change(synthetic_dir, tmp_path, monkeypatch):
    table, _ = data.list_images(synthetic_dir)
    files = table["file"].tolist()[::12]  # one image per breed
    first = features.load_or_extract(files, synthetic_dir, 71, "none", tmp_path, log=lambda *_: None)
    assert first.values.shape == (15, 2048) and not first.from_cache and first.values.std() > 0
    calls = []
    monkeypatch.setattr(features, "extract", lambda *a, **k: calls.append(a) or pytest.fail("extracted again"))
    second = features.load_or_extract(files, synthetic_dir, 71, "none", tmp_path, log=lambda *_: None)
    assert second.from_cache and np.array_equal(second.values, first.values) and second.files == files
    # Other image size or other files: another key, so the stale cache is not used.
    assert features.cache_key(files, synthetic_dir, 72, "none") != first.key
    assert features.cache_key(files[:-1], synthetic_dir, 71, "none") != first.key


def test_unreadable_images_are_skipped_and_listed(synthetic_dir, tmp_path):
    import shutil

    folder = tmp_path / "n02085936-Maltese_dog"
    folder.mkdir()
    good = next((synthetic_dir / "n02085936-Maltese_dog").iterdir())
    shutil.copy(good, folder / "good.jpg")
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "text.jpg").write_text("not an image")
    (folder / "truncated.jpg").write_bytes(good.read_bytes()[:200])
    files = [f"n02085936-Maltese_dog/{n}" for n in ("empty.jpg", "good.jpg", "text.jpg", "truncated.jpg")]
    found, _ = features.extract(files, tmp_path, 71, "none", log=lambda *_: None)
    assert found.files == ["n02085936-Maltese_dog/good.jpg"]
    assert sorted(s["file"].split("/")[1] for s in found.skipped) == ["empty.jpg", "text.jpg", "truncated.jpg"]


@pytest.mark.slow
def test_weights_file_round_trip(tmp_path, synthetic_dir):
    base = features.build_base("none", 71)
    path = tmp_path / "xception_notop.weights.h5"
    base.save_weights(path)
    loaded = features.build_base(str(path), 71)
    batch = features.preprocess(np.stack([features.load_image(p, 71) for p in
                                          sorted((synthetic_dir / "n02086240-Shih-Tzu").iterdir())[:2]]))
    np.testing.assert_allclose(loaded.predict_on_batch(batch), base.predict_on_batch(batch), atol=1e-6)
    assert features.weights_id(str(path)).startswith("file:")


def test_bad_weights_files_are_refused(tmp_path):
    with pytest.raises(LionpocError, match="does not exist"):
        features.weights_id(str(tmp_path / "absent.h5"))
    junk = tmp_path / "junk.weights.h5"
    junk.write_text("not weights")
    with pytest.raises(LionpocError, match="is not a Keras weights file"):
        features.build_base(str(junk), 71)


def test_imagenet_without_network_stops_at_once(monkeypatch, tmp_path):
    monkeypatch.setattr(features.Path, "home", lambda: tmp_path)

    def refuse(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(features.socket, "create_connection", refuse)
    with pytest.raises(LionpocError, match="pass --weights"):
        features.build_base("imagenet", 299)
