"""The sensitivity study: batch sizes with square-root rate scaling, a cosine schedule, real trainings."""
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lionpoc.model.grid import cosine_factor
from lionpoc.study import run_files, runs, sensitivity
from conftest import run_config

QUIET = lambda *_: None  # noqa: E731


def test_cosine_warms_up_then_decays_to_zero():
    factor = cosine_factor(np.arange(12), 10, 2).numpy()
    np.testing.assert_allclose(factor[:2], [0.5, 1.0])                       # linear warm-up over 2 steps
    np.testing.assert_allclose(factor[2], 1.0)                               # then the peak
    np.testing.assert_allclose(factor[6], 0.5, atol=1e-6)                    # half-way through the cosine
    np.testing.assert_allclose(factor[10:], 0.0, atol=1e-6)                  # 0 at the end and after
    assert np.all(np.diff(factor[2:]) <= 1e-7)


def test_square_root_scaling_and_schedule_length():
    assert sensitivity.scaled_rate(1e-4, 128, 32) == pytest.approx(2e-4)
    assert sensitivity.scaled_rate(3e-4, 32, 32) == 3e-4
    assert sensitivity.schedule_steps(10, 1000, 256) == (40, 2)
    assert sensitivity.schedule_steps(20, 2602, 32) == (20 * 82, round(0.05 * 20 * 82))


@pytest.fixture(scope="module")
def sensitive_run(synthetic_dir, tmp_path_factory):
    cfg = run_config("adamw", grid={"learning_rate": [1e-3, 3e-3], "weight_decay": [0.1]}, epochs=12,
                     patience=3, image_size=71, weights="none", data_dir=str(synthetic_dir), sensitivity=True,
                     extend_grid=False, cache_dir=str(tmp_path_factory.mktemp("cache")),
                     results_dir=str(tmp_path_factory.mktemp("r")))
    prep = runs.prepare(cfg, log=QUIET)
    return prep, runs.run_seed(prep, 0, log=QUIET)


@pytest.mark.slow
def test_every_batch_size_and_schedule_of_the_chosen_configuration(sensitive_run):
    prep, run = sensitive_run
    table = pd.read_csv(run.folder / sensitivity.FILE)
    assert len(table) == 8 and set(table["batch_size"]) == {32, 64, 128, 256}
    assert set(table["schedule"]) == {"constant", "cosine"} and (table["optimizer"] == "adamw").all()
    chosen = run.metrics["learning_rate"]
    for row in table.itertuples():
        assert row.base_learning_rate == chosen and row.weight_decay == run.metrics["weight_decay"]
        assert row.learning_rate == pytest.approx(chosen * math.sqrt(row.batch_size / 32))
        assert 1 <= row.best_epoch <= row.epochs_run <= 12 and 0 <= row.test_accuracy <= 1
    # Batch 32 with the constant rate is the main study's own training: same numbers.
    same = table[(table["batch_size"] == 32) & (table["schedule"] == "constant")].iloc[0]
    assert same["val_loss"] == pytest.approx(run.metrics["val_loss"], rel=1e-4)
    assert same["test_accuracy"] == pytest.approx(run.metrics["test_accuracy"])
    # The cosine really changes the training; it spans the epochs of the constant rate at the same batch size.
    for batch in (32, 256):
        pair = table[table["batch_size"] == batch].set_index("schedule")
        assert pair.loc["cosine", "val_loss"] != pytest.approx(pair.loc["constant", "val_loss"], rel=1e-3)
        assert pair.loc["cosine", "schedule_steps"] == (pair.loc["constant", "epochs_run"]
                                                        * math.ceil(run.metrics["n_train"] / batch))


def test_the_study_table_and_a_run_without_it(sensitive_run):
    prep, run = sensitive_run
    results = prep.cfg.results_dir
    table = sensitivity.write_table(results)
    pd.testing.assert_frame_equal(table, pd.read_csv(run.folder / sensitivity.FILE))
    assert run_files.is_done(prep.cfg, 0, prep.features.key)
    # The same inputs without --sensitivity: the run is kept (its key ignores the switch) ...
    assert run_files.is_done(prep.cfg.replace(sensitivity=False), 0, prep.features.key)
    # ... but a run made without it is not done for a study that asks for it.
    (run.folder / sensitivity.FILE).unlink()
    assert not run_files.is_done(prep.cfg, 0, prep.features.key)
    assert sensitivity.write_table(results).empty and not (Path(results) / sensitivity.FILE).exists()
