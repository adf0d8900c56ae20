"""The head, the grid search (validation only) and evaluation, on features made from synthetic images."""
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, f1_score

from lionpoc import breeds, evaluate, experiment
from lionpoc.config import RunConfig
from lionpoc.train import grid_search


@pytest.fixture(scope="module")
def prepared(synthetic_dir, tmp_path_factory):
    cfg = RunConfig(optimizer="adamw", grid={"learning_rate": [1e-3, 3e-3], "weight_decay": [0.01, 0.1]},
                    epochs=12, patience=3, image_size=71, weights="none", data_dir=str(synthetic_dir),
                    cache_dir=str(tmp_path_factory.mktemp("cache")), results_dir=str(tmp_path_factory.mktemp("r")))
    return experiment.prepare(cfg, log=lambda *_: None)


def test_same_seed_same_numbers_other_seed_other_numbers(prepared):
    a, table_a = experiment.tune(prepared, log=lambda *_: None)
    b, table_b = experiment.tune(prepared, log=lambda *_: None)
    c, table_c = experiment.tune(prepared.__class__(**{**prepared.__dict__, "cfg": prepared.cfg.replace(seed=5)}),
                                 log=lambda *_: None)
    pd.testing.assert_frame_equal(table_a.drop(columns="seconds"), table_b.drop(columns="seconds"))
    assert not np.allclose(table_a["val_loss"], table_c["val_loss"])
    assert list(a.history.columns) == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds"]
    assert 1 <= a.best_epoch <= len(a.history) <= 12


def test_grid_choice_ignores_the_test_split(prepared):
    """Scrambling the test labels and features changes nothing in the choice: tuning never reads them."""
    scrambled = prepared.table.copy()
    test = scrambled["split"] == "test"
    scrambled.loc[test, "label"] = np.random.default_rng(0).permutation(scrambled.loc[test, "label"].to_numpy())
    feats = prepared.features
    noisy = feats.__class__(feats.files, feats.values.copy(), feats.skipped, feats.key, 0, True)
    rows = [feats.files.index(f) for f in scrambled.loc[test, "file"]]
    noisy.values[rows] = np.random.default_rng(1).normal(size=(len(rows), noisy.values.shape[1]))
    other = prepared.__class__(**{**prepared.__dict__, "table": scrambled, "features": noisy})
    _, clean_table = experiment.tune(prepared, log=lambda *_: None)
    _, other_table = experiment.tune(other, log=lambda *_: None)
    pd.testing.assert_frame_equal(clean_table.drop(columns="seconds"), other_table.drop(columns="seconds"))


def test_selection_prefers_validation_accuracy_then_loss():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(int)
    best, table = grid_search(x, y, x, y, "adam", [{"learning_rate": 1e-6, "l2": 0.0},
                                                    {"learning_rate": 5e-2, "l2": 0.0}], 2,
                              log=lambda *_: None, epochs=10, patience=10, batch_size=16, dropout=0.0, seed=0)
    assert table["chosen"].sum() == 1 and best.config["learning_rate"] == 5e-2
    assert table.loc[table["chosen"], "val_accuracy"].item() == table["val_accuracy"].max()


def test_evaluation_agrees_with_scikit_learn():
    rng = np.random.default_rng(3)
    y = np.repeat(np.arange(15), 4)
    probs = rng.random((60, 15))
    probs[np.arange(60), y] += rng.random(60) * 0.8
    result = evaluate.evaluate(y, probs, [f"f{i}.jpg" for i in range(60)])
    pred = probs.argmax(1)
    assert result.accuracy == pytest.approx(accuracy_score(y, pred))
    assert result.macro_f1 == pytest.approx(f1_score(y, pred, average="macro"))
    assert result.confusion.to_numpy().sum() == 60 and result.confusion.index[0] == breeds.NAMES[0]
    assert result.report.loc["Maltese dog", "support"] == 4
    assert result.predictions["correct"].sum() == int((pred == y).sum())
