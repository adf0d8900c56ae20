"""Grids that bracket the optimum: the extension rule, then real trainings whose optimum lies outside the grid."""
import numpy as np
import pandas as pd
import pytest

from lionpoc.model import bracket
from lionpoc.model.head import bracketed_search, choose, grid_search
from lionpoc.study import runs
from conftest import run_config, scrambled_test_split, spec
from test_train import learnable_features

QUIET = lambda *_: None  # noqa: E731


def test_step_is_the_grids_geometric_ratio_and_zero_is_a_bound():
    assert bracket.step_ratio([3e-4, 1e-3, 3e-3]) == pytest.approx(10 ** 0.5)
    assert bracket.next_value([3e-4, 1e-3, 3e-3], -1, 10 ** 0.5) == 9.49e-5
    assert bracket.next_value([3e-4, 1e-3, 3e-3], +1, 10 ** 0.5) == 9.49e-3
    assert bracket.step_ratio([0.0, 1e-4, 1e-3]) == pytest.approx(10)
    assert bracket.next_value([0.0, 1e-4, 1e-3], -1, 10) is None      # nothing below "no decay"
    assert bracket.next_value([0.0, 1e-4, 1e-3], +1, 10) == 1e-2
    assert bracket.step_ratio([0.0, 1e-3]) is None and bracket.step_ratio([0.1]) is None
    assert [bracket.place([1, 2, 3], v) for v in (1, 2, 3)] == [-1, 0, 1] and bracket.place([5], 5) == 0


def landscape(best_lr, best_wd):
    """A validation surface peaked at (best_lr, best_wd) in log space: the search sees only these numbers."""
    def train(points):
        rows = []
        for p in points:
            distance = abs(np.log10(p["learning_rate"] / best_lr)) + abs(np.log10(p["weight_decay"] / best_wd))
            rows.append(({"val_accuracy": round(0.9 - 0.1 * distance, 6), "val_loss": 0.5 + distance,
                          "best_epoch": 5}, p))
        return rows
    return train


def test_an_axis_is_extended_until_the_choice_is_interior_and_at_most_twice():
    trained = []

    def train(points):
        trained.extend(points)
        return landscape(1e-2, 0.1)(points)

    table, chosen, record = bracket.search({"learning_rate": [1e-4, 1e-3], "weight_decay": [0.03, 0.1, 0.3]},
                                           train, choose, log=QUIET)
    # learning rate: 1e-3 on the edge -> 1e-2 (the optimum, still the edge) -> 1e-1: interior
    assert record.values["learning_rate"] == [1e-4, 1e-3, 1e-2, 1e-1]
    assert chosen == {"learning_rate": 1e-2, "weight_decay": 0.1}
    assert record.extensions == {"learning_rate": 2, "weight_decay": 0}
    assert record.status == {"learning_rate": "interior", "weight_decay": "interior"} and not record.stayed_on_edge
    assert len(trained) == len(table) == record.configurations == 12     # no configuration trained twice
    assert list(table["round"]) == [0] * 6 + [1] * 3 + [2] * 3 and table["chosen"].sum() == 1

    far, _, far_record = bracket.search({"learning_rate": [1e-7, 1e-6], "weight_decay": [0.1]},
                                        landscape(1e-2, 0.1), choose, log=QUIET)
    assert far_record.values["learning_rate"] == [1e-7, 1e-6, 1e-5, 1e-4]     # two extensions, then it stops
    assert far_record.status == {"learning_rate": "edge", "weight_decay": "fixed"} and far_record.stayed_on_edge
    assert far_record.metrics()["edge_axes"] == "learning_rate" and far_record.metrics()["configurations_tried"] == 4

    fixed, _, fixed_record = bracket.search({"learning_rate": [1e-4, 1e-3], "weight_decay": [0.1]},
                                            landscape(1e-2, 0.1), choose, extend=False, log=QUIET)
    assert len(fixed) == 2 and fixed_record.extensions == {"learning_rate": 0, "weight_decay": 0}
    assert fixed_record.status["learning_rate"] == "edge"


def test_a_choice_of_no_decay_is_a_bound_not_an_edge():
    def train(points):  # decay only hurts; the learning rate 1e-3 is best
        return [({"val_accuracy": 0.9 - p["l2"] - abs(np.log10(p["learning_rate"] / 1e-3)) / 10,
                  "val_loss": 1.0, "best_epoch": 3}, p) for p in points]

    _, chosen, record = bracket.search({"learning_rate": [3e-4, 1e-3, 3e-3], "l2": [0.0, 1e-4, 1e-3]}, train, choose,
                                       log=QUIET)
    assert chosen["l2"] == 0.0 and record.status["l2"] == "zero" and record.configurations == 9


def test_an_axis_that_changes_nothing_is_inert():
    table = pd.DataFrame({"learning_rate": [1, 1, 2, 2], "weight_decay": [0.1, 0.3, 0.1, 0.3],
                          "val_accuracy": [0.5, 0.5, 0.7, 0.7], "val_loss": [1.0, 1.0004, 0.8, 0.8],
                          "best_epoch": [4, 4, 9, 9]})
    assert bracket.inert_axes(table, ["learning_rate", "weight_decay"]) == {"learning_rate": False,
                                                                           "weight_decay": True}
    table.loc[3, "best_epoch"] = 8  # the decay moved the best epoch: it did something
    assert bracket.inert_axes(table, ["learning_rate", "weight_decay"])["weight_decay"] is False


@pytest.mark.parametrize("start", [[1e-4, 3.16e-4, 1e-3], [1e-2, 3.16e-2, 1e-1]], ids=["below", "above"])
def test_a_real_grid_below_or_above_the_optimum_is_extended_to_it(start):
    """Real trainings of Lion heads on features where the best learning rate is known: measured first on
    a wide grid (1e-5 to 1, ratio sqrt(10)), it is 3.16e-3. A grid two steps away on either side is
    extended twice and ends with that choice, interior; every configuration it shares with the wide
    grid has the wide grid's numbers (configurations train independently)."""
    (x, y), (xv, yv), _ = learnable_features(n_train=600, n_val=300, dim=64, seed=0)
    options = dict(epochs=20, patience=3, batch_size=32, dropout=0.2, seed=0)
    wide = [{"learning_rate": float(f"{v:.3g}"), "weight_decay": 0.0} for v in 10 ** np.arange(-5, 0.01, 0.5)]
    best_wide, wide_table = grid_search(x, y, xv, yv, spec("lion"), wide, 15, log=QUIET, **options)
    assert best_wide.config["learning_rate"] == 3.16e-3     # the known optimum, outside both starting grids

    points = [{"learning_rate": lr, "weight_decay": 0.0} for lr in start]
    fit, table, record = bracketed_search(x, y, xv, yv, spec("lion"), points, 15, log=QUIET, **options)
    assert fit.config["learning_rate"] == 3.16e-3
    assert record.extensions["learning_rate"] == 2 and record.status["learning_rate"] == "interior"
    assert record.configurations == 5 and sorted(table["round"]) == [0, 0, 0, 1, 2]
    shared = table.merge(wide_table, on="learning_rate", suffixes=("", "_wide"))
    assert len(shared) >= 4
    np.testing.assert_allclose(shared["val_loss"], shared["val_loss_wide"], rtol=1e-4)
    assert (shared["best_epoch"] == shared["best_epoch_wide"]).all()


@pytest.fixture(scope="module")
def low_grid(synthetic_dir, tmp_path_factory):
    """A Lion grid far below its optimum on the synthetic images: the search must extend it."""
    cfg = run_config("lion", grid={"learning_rate": [1e-6, 3e-6], "weight_decay": [0.1]}, epochs=8,
                     patience=3, image_size=71, weights="none", data_dir=str(synthetic_dir),
                     cache_dir=str(tmp_path_factory.mktemp("cache")), results_dir=str(tmp_path_factory.mktemp("r")))
    return runs.prepare(cfg, log=QUIET)


def test_the_extension_never_reads_the_test_split(low_grid, monkeypatch):
    """Test labels shuffled and test features replaced by noise: every configuration tried, every extension
    and the choice are the same. Then the whole seed: the test split is scored once, for the chosen head."""
    _, clean, clean_record = runs.search(low_grid, 0, log=QUIET)
    assert clean_record.extensions["learning_rate"] >= 1 and clean["round"].max() >= 1
    other = scrambled_test_split(low_grid)
    _, shuffled, shuffled_record = runs.search(other, 0, log=QUIET)
    pd.testing.assert_frame_equal(clean.drop(columns="seconds"), shuffled.drop(columns="seconds"))
    assert shuffled_record == clean_record

    scored, original = [], runs.test
    monkeypatch.setattr(runs, "test", lambda prep, fit: scored.append(fit.config) or original(prep, fit))
    run = runs.run_seed(low_grid, 0, log=QUIET)
    assert scored == [clean_record.chosen] and run.metrics["learning_rate"] == clean_record.chosen["learning_rate"]
    saved = pd.read_csv(run.folder / "tuning.csv")
    assert len(saved) == run.metrics["configurations_tried"] == clean_record.configurations
    assert run.metrics["extensions_learning_rate"] == clean_record.extensions["learning_rate"]
    assert run.metrics["grid_size"] == 2 and run.metrics["extend_grid"] is True
    assert run.metrics["status_weight_decay"] == "fixed"
