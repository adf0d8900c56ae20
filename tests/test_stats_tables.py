"""The study-level tables of issue 24 (seed-aware intervals, Holm, power, loss and calibration, tuning records,
costs) computed from a small results folder written here (no training: seconds)."""
import json
import math

import numpy as np
import pandas as pd
import pytest

from lionpoc.study import aggregate, comparisons, layout, resampling, stats, tuning

N_TEST = 120
SEEDS = (0, 1, 2, 3)
ACCURACY = {"adam": 0.86, "adamw": 0.86, "lion": 0.90}
GRIDS = {"adam": ("weight_decay", [1e-4, 1e-3, 1e-2], [0.0, 1e-4]),
         "adamw": ("weight_decay", [1e-4, 1e-3, 1e-2], [1e-4, 1e-3]),
         "lion": ("weight_decay", [1e-5, 1e-4, 1e-3, 3e-3], [1e-3, 1e-2])}


def write_run(folder, name, seed, rng, truth_hard):
    run = layout.run_dir(folder, name, seed)
    run.mkdir(parents=True)
    p = np.clip(ACCURACY[name] - 0.4 * truth_hard + rng.normal(0, 0.02), 0.05, 0.99)
    correct = (rng.random(N_TEST) < p).astype(int)
    confidence = np.round(np.clip(np.where(correct, 0.9, 0.6) + rng.normal(0, 0.05, N_TEST), 0.07, 1.0), 6)
    p_true = np.where(correct, confidence, rng.uniform(0.01, 0.3, N_TEST))
    pd.DataFrame({"file": [f"img{i:03d}.jpg" for i in range(N_TEST)], "true": "a", "predicted": "a",
                  "correct": correct, "confidence": confidence, "p_true": p_true}).to_csv(run / "predictions.csv",
                                                                                         index=False)
    axis, rates, decays = GRIDS[name]
    rows = [{"learning_rate": lr, axis: wd, "val_accuracy": round(float(rng.uniform(0.7, 0.9)), 4),
             "val_loss": float(rng.uniform(0.2, 0.6)), "epochs_run": 20, "best_epoch": 10, "seconds": 0.5,
             "round": 0, "chosen": False} for lr in rates for wd in decays]
    rows.append({**rows[-1], "learning_rate": rates[-1] * 3, "val_accuracy": 0.5, "round": 1})  # an extension
    table = pd.DataFrame(rows)
    table.loc[head_choice(table), "chosen"] = True
    table.to_csv(run / "tuning.csv", index=False)
    epochs = np.arange(1, 21)
    val = np.minimum(0.9, 0.5 + epochs * (0.06 if name == "lion" else 0.03))
    pd.DataFrame({"epoch": epochs, "accuracy": np.minimum(0.99, val + 0.05), "val_accuracy": val,
                  "seconds": 0.02}).to_csv(run / "history.csv", index=False)
    for extra in ("confusion.csv", "classification_report.csv"):
        (run / extra).write_text("x\n1\n")
    metrics = {"optimizer": name, "seed": seed, "run_key": "k", "test_accuracy": float(correct.mean()),
               "test_macro_f1": float(correct.mean()), "n_test": N_TEST, "epochs_run": 20, "best_epoch": 10,
               "train_seconds": 0.4, "seconds_per_epoch": 0.02, "tuning_seconds": 6.0, "learning_rate": 1e-3,
               "weight_decay": 1e-4, "l2": 0.0, "data_kind": "synthetic", "weights": "none", "image_size": 71,
               "head_kernel_norm": {"adam": 5.0, "adamw": 4.0, "lion": 2.0}[name] + 0.1 * seed}
    (run / "metrics.json").write_text(json.dumps(metrics))


def head_choice(table):
    from lionpoc.model.head import choose
    return choose(table)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    rng = np.random.default_rng(0)
    hard = (rng.random(N_TEST) < 0.3).astype(float)
    for name in ACCURACY:
        for seed in SEEDS:
            write_run(out, name, seed, rng, hard)
    (out / "study.json").write_text(json.dumps({"optimizers": list(ACCURACY), "focus": "lion"}))
    pd.DataFrame([{"model": m, "optimizer": o, "parameters": 100, "weights_bytes": 400,
                   "state_bytes": 400 * (1 if o == "lion" else 2), "slots_per_weight": 1.0 if o == "lion" else 2.0}
                  for m in ("head", "mobilenet_v2") for o in ACCURACY]).to_csv(out / "memory.csv", index=False)
    pd.DataFrame([{"optimizer": o, "repeat": r, "seconds_per_epoch": {"adam": 0.02, "adamw": 0.021, "lion": 0.03}[o]
                   + 0.001 * r} for r in range(5) for o in ACCURACY]).to_csv(out / "timing.csv", index=False)
    return out


@pytest.fixture(scope="module")
def found(folder):
    return aggregate.tables(aggregate.load_runs(folder))


def test_every_new_table_is_written_and_listed_in_the_layout(folder, found):
    aggregate.write_tables(folder)
    for name in ("pairs.csv", "intervals.csv", "power.csv", "calibration.csv", "calibration_pairs.csv",
                 "tuning_trials.csv", "tuning_runs.csv", "tuning_rule.csv", "expected_best.csv", "costs.csv"):
        assert (folder / name).is_file() and name in layout.STUDY_TABLES
    # written by one call, computed by another: same seed, same numbers
    pd.testing.assert_frame_equal(pd.read_csv(folder / "pairs.csv"), found["pairs.csv"], check_dtype=False)
    pd.testing.assert_frame_equal(pd.read_csv(folder / "expected_best.csv"), found["expected_best.csv"],
                                  check_dtype=False)


def test_pairs_are_oriented_on_the_focus_and_holm_is_saved_per_family(found):
    pairs = found["pairs.csv"]
    focus = pairs[pairs["family"] == "focus"]
    assert list(zip(focus["a"], focus["b"])) == [("lion", "adam"), ("lion", "adamw")]
    assert focus["p_holm"].tolist() == pytest.approx(stats.holm(focus["p_value"].tolist()))
    others = pairs[pairs["family"] == "others"]
    assert list(zip(others["a"], others["b"])) == [("adam", "adamw")]
    assert others["p_holm"].tolist() == pytest.approx(others["p_value"].tolist())  # a family of one
    assert (focus["diff_accuracy"] > 0).all()


def test_the_exact_p_and_resolution_come_from_the_seed_summed_differences(found, folder):
    runs = aggregate.load_runs(folder)
    row = found["pairs.csv"].set_index(["a", "b"]).loc[("lion", "adam")]
    la = aggregate.correctness(runs, "lion").T.to_numpy()
    ad = aggregate.correctness(runs, "adam").T.to_numpy()
    t = (la - ad).sum(axis=0)
    assert row["n_discordant"] == np.count_nonzero(t)
    assert row["p_min"] == 2.0 ** (1 - np.count_nonzero(t))
    assert row["p_value"] == pytest.approx(stats.sign_flip_test(la, ad), abs=0)
    assert row["diff_accuracy"] == pytest.approx(t.sum() / la.size)


def test_three_intervals_each_say_what_they_cover(found):
    pairs = found["pairs.csv"]
    row = pairs.iloc[0]
    assert row["ci_covers"] == resampling.COVERS["images"]
    assert row["seed_ci_covers"] == resampling.COVERS["seeds"]
    assert row["ci2_covers"] == resampling.COVERS["seeds_and_images"]
    for _, r in pairs.iterrows():
        assert r["ci2_low"] <= r["diff_accuracy"] <= r["ci2_high"]
        # the joint interval (Bonferroni over the family of two focus pairs) contains the marginal one
        if r["family"] == "focus":
            assert r["joint_level"] == pytest.approx(0.975)
            assert r["ci2_joint_low"] <= r["ci2_low"] and r["ci2_high"] <= r["ci2_joint_high"]
    intervals = found["intervals.csv"]
    assert set(intervals["kind"]) == {"images", "seeds", "seeds_and_images"}
    assert set(intervals["metric"]) == {"accuracy", "nll", "ece"}
    assert intervals["covers"].notna().all()


def test_power_columns_are_consistent(found):
    pairs = found["pairs.csv"]
    for _, r in pairs.iterrows():
        assert 0 <= r["mdd_floor"] <= r["mdd"]
        # the verdict's own standard error (the two-stage bootstrap's) and Holm's first-step level in the family:
        # 0.05 / 2 for Lion against its two rivals (z 2.2414 + 0.8416), 0.05 for the one pair between rivals
        alpha, z = (0.025, 3.0830) if r["family"] == "focus" else (0.05, 2.8016)
        assert r["mdd_alpha"] == pytest.approx(alpha)
        assert r["mdd"] == pytest.approx(z * r["mdd_se"], rel=1e-4)
        # with few seeds, the larger of the bootstrap's error and the one Student's interval over seeds implies
        student = (r["seed_ci_high"] - r["seed_ci_low"]) / (2 * 1.959964)
        assert r["mdd_se"] == pytest.approx(max(r["se2"], student) if 3 <= r["n_seeds"] <= 5 else r["se2"], rel=1e-6)
        # the variance components are scaled to that standard error, so other seed counts follow from them
        assert r["mdd"] == pytest.approx(z * math.sqrt(r["var_seed"] / r["n_seeds"] + r["var_image"] / r["n_test"]
                                                       + r["var_residual"] / (r["n_seeds"] * r["n_test"])), rel=1e-4)
    power = found["power.csv"]
    curve = power[(power["a"] == "lion") & (power["b"] == "adam") & (power["metric"] == "accuracy")]
    assert curve["n_seeds"].min() == 2 and curve["n_seeds"].max() == comparisons.POWER_SEEDS
    assert np.all(np.diff(curve["mdd"]) < 0)
    assert curve.loc[curve["observed"], "n_seeds"].tolist() == [len(SEEDS)]


def test_loss_and_calibration_per_optimizer_and_paired(found, folder):
    table = found["calibration.csv"].set_index("optimizer")
    runs = aggregate.load_runs(folder)
    one = pd.read_csv(layout.run_dir(folder, "adam", 0) / "predictions.csv")
    losses = [-np.log(pd.read_csv(layout.run_dir(folder, "adam", s) / "predictions.csv")["p_true"]).mean()
              for s in SEEDS]
    assert table.loc["adam", "nll_mean"] == pytest.approx(np.mean(losses))
    assert table.loc["adam", "nll_ci_low"] < table.loc["adam", "nll_mean"] < table.loc["adam", "nll_ci_high"]
    assert table.loc["adam", "bins"] == 15 and len(runs) == 12 and len(one) == N_TEST
    assert table.loc["lion", "kernel_norm_mean"] == pytest.approx(2.15)
    assert table.loc["adam", "kernel_norm_sd"] == pytest.approx(np.std([0.0, 0.1, 0.2, 0.3], ddof=1))
    pairs = found["calibration_pairs.csv"]
    nll = pairs[(pairs["metric"] == "nll") & (pairs["a"] == "lion") & (pairs["b"] == "adam")].iloc[0]
    assert nll["diff"] == pytest.approx(table.loc["lion", "nll_mean"] - table.loc["adam", "nll_mean"])
    ece = pairs[(pairs["metric"] == "ece") & (pairs["a"] == "lion") & (pairs["b"] == "adam")].iloc[0]
    assert ece["diff"] == pytest.approx(table.loc["lion", "ece_mean"] - table.loc["adam", "ece_mean"])
    assert math.isnan(ece["p_value"]) and ece["p_method"].startswith("none")


def test_tuning_records_every_configuration_and_the_rule(found):
    trials, runs = found["tuning_trials.csv"], found["tuning_runs.csv"]
    assert len(trials) == len(SEEDS) * (3 * 2 + 1 + 3 * 2 + 1 + 4 * 2 + 1)
    assert trials.groupby(["optimizer", "seed"])["chosen"].sum().eq(1).all()
    assert runs["rule_agrees"].all()
    assert runs.set_index(["optimizer", "seed"])["extended_configurations"].eq(1).all()
    assert found["tuning_rule.csv"]["key"].tolist() == ["val_accuracy", "val_loss"]
    chosen = trials[trials["chosen"]]
    assert trials.loc[trials["at_chosen_decay"]].groupby(["optimizer", "seed"])["decay"].nunique().eq(1).all()
    assert len(chosen) == 3 * len(SEEDS)


def test_expected_best_curve_starts_at_the_mean_and_rises_with_its_band(found):
    curve = found["expected_best.csv"]
    trials = found["tuning_trials.csv"]
    lion = curve[curve["optimizer"] == "lion"]
    first = trials[trials["optimizer"] == "lion"].groupby("seed")["val_accuracy"].mean().mean()
    assert lion["expected_best_val_accuracy"].iloc[0] == pytest.approx(first)
    assert np.all(np.diff(lion["expected_best_val_accuracy"]) >= 0)
    assert (lion["low"] <= lion["expected_best_val_accuracy"]).all() and (lion["expected_best_val_accuracy"] <= lion["high"]).all()
    assert lion["n_configurations"].max() == 9 and lion["tried_mean"].iloc[0] == 9


def test_costs_join_state_and_time_to_the_common_target(found):
    costs = found["costs.csv"]
    lion = costs[(costs["optimizer"] == "lion") & (costs["target"] == 0.95)].iloc[0]
    adam = costs[(costs["optimizer"] == "adam") & (costs["target"] == 0.95)].iloc[0]
    assert lion["state_bytes_head"] == 400 and adam["state_bytes_head"] == 800 and lion["backbone"] == "mobilenet_v2"
    assert lion["seconds_per_epoch_median"] == pytest.approx(0.032)
    assert lion["seconds_to_target_mean"] == pytest.approx(lion["epochs_to_target_mean"] * 0.032)
    assert adam["epoch_time_overlaps_focus"] == False  # noqa: E712 (0.020-0.024 against 0.030-0.034)
    assert lion["epochs_to_target_mean"] < adam["epochs_to_target_mean"]


def test_a_single_seed_has_no_seed_aware_interval(folder):
    runs = aggregate.load_runs(folder)
    one = runs[runs["seed"] == 0]
    pairs = comparisons.accuracy_pairs(one, "lion", n_resamples=500)["pairs"]
    assert pairs["ci2_low"].isna().all() and pairs["mdd"].isna().all() and pairs["seed_ci_low"].isna().all()
    assert pairs["ci_low"].notna().all() and pairs["mdd_images"].notna().all()


def test_an_unrecorded_true_probability_leaves_the_loss_out(tmp_path, folder):
    import shutil
    copy = tmp_path / "old"
    shutil.copytree(folder, copy)
    for path in copy.glob("*/seed-*/predictions.csv"):
        pd.read_csv(path).drop(columns="p_true").to_csv(path, index=False)
    runs = aggregate.load_runs(copy)
    table = comparisons.calibration(runs, n_resamples=200)
    assert table["nll_mean"].isna().all() and table["ece_mean"].notna().all()
    assert set(comparisons.calibration_pairs(runs, "lion", n_resamples=200)["pairs"]["metric"]) == {"ece"}
    assert tuning.selection_rule()["direction"].iloc[0] == "highest"


def test_fine_tuning_gets_the_same_loss_and_calibration_tables(tmp_path, folder):
    import shutil
    copy = tmp_path / "tuned"
    shutil.copytree(folder, copy)
    for path in copy.glob("*/seed-*/predictions.csv"):
        shutil.copy(path, path.with_name("fine_tune_predictions.csv"))
    runs = aggregate.load_runs(copy)
    head = comparisons.calibration(runs, n_resamples=300)
    tuned = comparisons.calibration(runs, "fine_tune_predictions.csv", n_resamples=300, norm_column=None)
    pd.testing.assert_frame_equal(head.drop(columns=["kernel_norm_mean", "kernel_norm_sd"]),
                                  tuned.drop(columns=["kernel_norm_mean", "kernel_norm_sd"]))
    assert tuned["kernel_norm_mean"].isna().all()  # the head's norm says nothing of the fine-tuned weights
