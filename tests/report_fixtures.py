"""Small recorded results folders for the report, written from a description, never trained.

Each regime of the report (``REGIMES``) is a folder with the files a study writes (``study.json``,
``split.csv``, ``memory.csv``, ``timing.csv``, ``baseline.json``, per run ``metrics.json``, ``history.csv``,
``tuning.csv``, ``predictions.csv``, ``confusion.csv``, ``classification_report.csv``, and the fine-tuning and
sensitivity files when the regime has them), drawn from a seeded generator: the same regime always gives the
same files, in about a second. The study-level tables are then computed by the study's own aggregate step.

    python tests/report_fixtures.py OUT [REGIME ...]   # writes OUT/<regime>/ (all regimes by default)
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import classification_report, f1_score

from lionpoc.data import breeds
from lionpoc.data import datasets
from lionpoc.model import optimizers as registry
from lionpoc.study import aggregate
from lionpoc.study import sensitivity as study_sensitivity

MACHINE = {"cores": 6, "cpu": "Intel(R) Core(TM) i5-10400F CPU @ 2.90GHz", "gpu": [], "ram_gib": 31.3,
           "system": "Linux 6.1.0"}
VERSIONS = {"keras": "3.15.1", "lionpoc": "0.1.0", "matplotlib": "3.11.2", "numpy": "2.4.6", "pandas": "3.1.1",
            "papermill": "2.7.0", "python": "3.11.7", "scikit-learn": "1.9.1", "tensorflow": "2.21.0"}
BACKBONES = {"xception": ("Xception", 2048, 20_861_480), "mobilenet_v2": ("MobileNetV2", 1280, 2_257_984)}


@dataclass(frozen=True)
class Regime:
    """What a recorded study holds: its optimizers and their accuracies, the data, the weights, the options."""

    optimizers: tuple[str, ...] = ("adam", "adamw", "lion")
    accuracy: dict = field(default_factory=lambda: {"adam": 0.84, "adamw": 0.84, "lion": 0.85})
    seeds: int = 3
    per_breed_test: int = 10          # test images per breed
    synthetic: bool = False
    weights: str = "imagenet"         # imagenet, none, or a weights file
    backbone: str = "mobilenet_v2"
    cropped: bool = True
    focus: str | None = None
    epochs: int = 100
    epochs_run: dict = field(default_factory=dict)   # optimizer -> epochs run (default from its speed)
    seconds: dict = field(default_factory=dict)      # optimizer -> seconds per epoch timed alone
    shared: float = 0.6                              # share of test images every optimizer gets right together
    fine_tune: dict | None = None                    # optimizer -> accuracy after fine-tuning
    fine_tune_seeds: int | None = None               # fine-tuned seeds (the first ones; default: every seed)
    sensitivity: bool = False
    benchmark: bool = False                          # results/benchmark.json from lionpoc bench
    cluster: bool = False                            # the study ran on a Dask cluster (study.json's cluster)
    image_size: int = 224
    seed: int = 0
    classes: tuple | None = None                     # class folders of another data set than the 15 breeds
    per_class_extra: int = 0                         # the first class's extra training images (an imbalance)
    description: dict | None = None                  # that data set's dataset.yaml (name, classes, description...)


def _dataset(regime: Regime) -> datasets.DataSet:
    """The 15 breeds, or the data set of ``regime.classes`` with its description."""
    if regime.classes is None:
        return datasets.STANFORD_DOGS_15
    import dataclasses

    found = datasets.for_folders(regime.classes, "images")
    described = regime.description or {}
    shown = [described.get("classes", {}).get(f, name) for f, name in zip(found.folders, found.display)]
    return dataclasses.replace(found, name=described.get("name", found.name), display=tuple(shown),
                               description=described.get("description"), reference=described.get("reference"))


def _study_labels(regime: Regime) -> list[str]:
    return list(regime.optimizers)


def _split(regime: Regime) -> pd.DataFrame:
    """80/10/10 per breed, with ``per_breed_test`` test images per breed."""
    rows = []
    for label, folder in enumerate(_dataset(regime).folders):
        n_test = regime.per_breed_test
        parts = ["test"] * n_test + ["val"] * n_test + ["train"] * (8 * n_test + (regime.per_class_extra if label == 0
                                                                                 else 0))
        stem = breeds.wnid(folder) if regime.classes is None else "img"
        for i, part in enumerate(parts):
            rows.append({"file": f"{folder}/{stem}_{i:05d}.jpg", "breed": folder, "label": label,
                         "split": part})
    return pd.DataFrame(rows)


def _lookalike(i: int, rng, dataset: datasets.DataSet = datasets.STANFORD_DOGS_15) -> int:
    """A breed the ``i``-th is confused with: one of its announced look-alikes when it has one, else a neighbour."""
    folders = dataset.folders
    folder = folders[i]
    group = [folders.index(b) for g in dataset.lookalikes if folder in g for b in g if b != folder]
    return int(rng.choice(group)) if group else (i + 1) % len(folders)


def _history(epochs_run: int, best: int, final_val: float, rng, start: float = 0.3) -> pd.DataFrame:
    epoch = np.arange(1, epochs_run + 1)
    rise = 1 - np.exp(-epoch / max(best / 3, 1))
    val_acc = np.clip(start + (final_val - start) * rise + rng.normal(0, 0.004, len(epoch)), 0, 1)
    train_acc = np.clip(val_acc + 0.02 + 0.0008 * epoch, 0, 1)
    val_loss = 2.7 * np.exp(-epoch / max(best / 3, 1)) + 0.45 + 0.002 * np.maximum(epoch - best, 0)
    val_loss[best - 1] = val_loss.min() - 0.001
    return pd.DataFrame({"epoch": epoch, "loss": val_loss - 0.05, "accuracy": train_acc, "val_loss": val_loss,
                         "val_accuracy": val_acc, "seconds": np.full(len(epoch), 0.05)})


def _grid(spec) -> dict:
    return {"learning_rate": [3e-4, 1e-3, 3e-3], spec.decay_axis or "l2": [0.0, 1e-4, 1e-3]} \
        if spec.decay_axis else {"learning_rate": [3e-4, 1e-3, 3e-3]}


def _predictions(files: list[str], truth: np.ndarray, correct: np.ndarray, rng,
                 dataset: datasets.DataSet = datasets.STANFORD_DOGS_15) -> pd.DataFrame:
    predicted = np.array([t if ok else _lookalike(int(t), rng, dataset) for t, ok in zip(truth, correct)])
    return pd.DataFrame({"file": files, "true": [dataset.names[t] for t in truth],
                         "predicted": [dataset.names[p] for p in predicted], "correct": correct.astype(int),
                         "confidence": np.round(rng.uniform(0.4, 1.0, len(files)), 6)})


def _reports(predictions: pd.DataFrame, out: Path, prefix: str = "",
             dataset: datasets.DataSet = datasets.STANFORD_DOGS_15) -> float:
    """Confusion matrix and per-breed report beside the predictions; the macro-F1."""
    names = list(dataset.names)
    matrix = pd.crosstab(pd.Categorical(predictions["true"], names), pd.Categorical(predictions["predicted"], names),
                         dropna=False)
    matrix.index.name, matrix.columns.name = "true", None
    if not prefix:
        matrix.to_csv(out / "confusion.csv")
        report = classification_report(predictions["true"], predictions["predicted"], labels=names, output_dict=True,
                                       zero_division=0)
        frame = pd.DataFrame({n: report[n] for n in names}).T
        frame.index.name = "breed"
        frame.to_csv(out / "classification_report.csv")
    predictions.to_csv(out / f"{prefix}predictions.csv", index=False)
    return float(f1_score(predictions["true"], predictions["predicted"], labels=names, average="macro",
                          zero_division=0))


def _correct(regime: Regime, accuracy: float, n: int, base: np.ndarray, rng) -> np.ndarray:
    """Images right: the ``shared`` easiest ones always, then as many others, drawn at random, as make ``accuracy``
    exactly (``base`` ranks the images by difficulty, the same for every optimizer of a seed)."""
    easy = base < regime.shared
    others = np.flatnonzero(~easy)
    wanted = min(max(round(accuracy * n) - int(easy.sum()), 0), len(others))
    correct = easy.copy()
    correct[rng.choice(others, wanted, replace=False)] = True
    return correct


def write(out: Path, regime: Regime) -> Path:
    """Write ``regime`` as a results folder in ``out`` (created, must not exist) and its aggregate tables."""
    out = Path(out)
    out.mkdir(parents=True)
    rng = np.random.default_rng(regime.seed)
    dataset = _dataset(regime)
    split = _split(regime)
    split.to_csv(out / "split.csv", index=False)
    test = split[split["split"] == "test"]
    files, truth = list(test["file"]), test["label"].to_numpy()
    n_test, n_train = len(test), int((split["split"] == "train").sum())
    base = np.array([rng.permutation(n_test) / n_test for _ in range(regime.seeds)])  # difficulty ranks per seed
    label, dim, full_params = BACKBONES[regime.backbone]
    pretrained = regime.weights != "none" and not regime.synthetic
    data_dir = out / "data" / "Images"
    data_dir.mkdir(parents=True)
    if regime.cropped and not regime.synthetic:
        (out / "data" / "README.md").write_text("Each photo was cropped to its annotated dog bounding box.\n")
    specs = {name: registry.load(name) for name in regime.optimizers}
    focus = regime.focus or registry.default_focus(list(regime.optimizers))
    data_kind = "synthetic" if regime.synthetic else dataset.kind
    weights_id = regime.weights if regime.weights in ("imagenet", "none") else "file:0123456789ab"
    timing, sensitivity, executions, clock = [], [], [], 0.0
    for k, name in enumerate(regime.optimizers):
        spec = specs[name]
        grid = _grid(spec)
        decay_axis = spec.decay_axis
        epochs_run = regime.epochs_run.get(name, 26 if name == "lion" else 48)
        per_epoch = regime.seconds.get(name, 0.020 + 0.002 * k)
        for seed in range(regime.seeds):
            folder = out / name / f"seed-{seed}"
            folder.mkdir(parents=True)
            run_rng = np.random.default_rng([regime.seed, k, seed])
            accuracy = regime.accuracy[name] + 0.007 * (seed - (regime.seeds - 1) / 2)  # seeds differ a little
            correct = _correct(regime, accuracy, n_test, base[seed], run_rng)
            predictions = _predictions(files, truth, correct, run_rng, dataset)
            macro_f1 = _reports(predictions, folder, dataset=dataset)
            ran = min(epochs_run + seed, regime.epochs)
            best = max(ran - 10, 1) if ran < regime.epochs else ran - 2
            history = _history(ran, best, regime.accuracy[name] + 0.01, run_rng)
            history.to_csv(folder / "history.csv", index=False)
            chosen = {"learning_rate": grid["learning_rate"][1], **({decay_axis: grid[decay_axis][1]} if decay_axis else {})}
            rows = []
            for lr in grid["learning_rate"]:
                for value in (grid[decay_axis] if decay_axis else [None]):
                    point = {"learning_rate": lr, **({decay_axis: value} if decay_axis else {})}
                    rows.append({**point, "val_accuracy": regime.accuracy[name] - (0 if point == chosen else 0.03),
                                 "val_loss": 0.5 if point == chosen else 0.6, "epochs_run": ran, "best_epoch": best,
                                 "seconds": per_epoch * ran, "round": 0, "chosen": point == chosen})
            pd.DataFrame(rows).to_csv(folder / "tuning.csv", index=False)
            params = {"backbone": regime.backbone, "batch_size": 32, "cache_dir": "data/processed",
                      "data_dir": str(data_dir), "dropout": 0.2, "epochs": regime.epochs, "extend_grid": True,
                      "fine_tune": regime.fine_tune is not None, "fine_tune_epochs": 30, "fine_tune_patience": 5,
                      "grid": grid, "image_size": regime.image_size, "optimizer": spec.to_mapping(), "patience": 10,
                      "results_dir": str(out), "seed": seed, "sensitivity": regime.sensitivity,
                      "smoke": regime.synthetic, "split": "random", "split_seed": 0, "test_fraction": 0.1,
                      "train_fraction": 0.8, "val_fraction": 0.1, "weights": regime.weights}
            edge = decay_axis if (decay_axis and seed == 0 and name != focus) else ""
            metrics = {"backbone": regime.backbone, "backbone_label": label, "best_epoch": best,
                       "configurations_tried": len(rows) + (3 if edge else 0), "created_at": "2026-12-01T10:00:00+00:00",
                       "data_dir": str(data_dir), "data_kind": data_kind, "edge_axes": edge, "epochs_run": ran,
                       "extend_grid": True, "extensions": 1 if edge else 0,
                       **{f"extensions_{a}": (1 if a == edge else 0) for a in grid},
                       **{f"inert_{a}": False for a in grid}, "inert_axes": "",
                       **{f"status_{a}": ("edge" if a == edge else "interior") for a in grid},
                       "feature_dim": dim, "feature_key": "0123456789abcdef0123", "feature_seconds": 61.5,
                       "grid_size": len(rows), "initial_grid_size": len(rows), "image_size": regime.image_size,
                       "learning_rate": chosen["learning_rate"], "l2": chosen.get("l2", 0.0),
                       "weight_decay": chosen.get("weight_decay", 0.0), "machine": MACHINE,
                       "n_test": n_test, "n_train": n_train, "n_val": n_test, "notes": [], "optimizer": name,
                       "params": params, "pretrained": pretrained, "run_key": f"{k}{seed}" * 8,
                       "seconds_per_epoch": per_epoch / 3, "seed": seed, "skipped_files": [],
                       "smoke": regime.synthetic, "split": "random", "stayed_on_edge": bool(edge),
                       "stopped_early": ran < regime.epochs, "test_accuracy": float(correct.mean()),
                       "test_correct": int(correct.sum()), "test_macro_f1": macro_f1,
                       "train_seconds": per_epoch / 3 * ran, "tuning_seconds": per_epoch * ran,
                       "val_accuracy": regime.accuracy[name] + 0.01, "val_loss": 0.5, "versions": VERSIONS,
                       "weights": regime.weights, "weights_id": weights_id}
            if regime.fine_tune is not None and seed < (regime.fine_tune_seeds or regime.seeds):
                tuned = _correct(regime, regime.fine_tune[name], n_test, base[seed], run_rng)
                ft_f1 = _reports(_predictions(files, truth, tuned, run_rng, dataset), folder, "fine_tune_", dataset)
                ft_ran = 12 + k
                _history(ft_ran, ft_ran - 5, regime.fine_tune[name] + 0.01, run_rng,
                         start=regime.accuracy[name]).to_csv(folder / "fine_tune_history.csv", index=False)
                rates = [chosen["learning_rate"] * f for f in spec.fine_tune["learning_rate_factors"]]
                pick = 2 if (name == focus and seed == 1) else 1  # the focus's seeds choose different rates
                pd.DataFrame({"learning_rate": rates, "val_accuracy": [regime.fine_tune[name]] * len(rates),
                              "val_loss": [0.4] * len(rates), "epochs_run": [ft_ran] * len(rates),
                              "best_epoch": [ft_ran - 5] * len(rates), "seconds": [40.0] * len(rates),
                              "chosen": [i == pick for i in range(len(rates))]}).to_csv(
                    folder / "fine_tune_tuning.csv", index=False)
                metrics.update({"ft_test_accuracy": float(tuned.mean()), "ft_test_macro_f1": ft_f1,
                                "ft_val_accuracy_before": regime.accuracy[name], "ft_val_accuracy":
                                regime.fine_tune[name], "ft_learning_rate": rates[pick], "ft_epochs_run": ft_ran,
                                "ft_best_epoch": ft_ran - 5, "ft_seconds_per_epoch": 3.2 + 0.1 * k,
                                "ft_train_seconds": (3.2 + 0.1 * k) * ft_ran, "ft_wall_seconds": 130.0 + k,
                                "ft_all_seconds": 400.0, "ft_estimated_seconds": 120.0,
                                "ft_trainable_parameters": 887_840, "ft_state_bytes": (1 if name == "lion" else 2)
                                * 4 * 887_840, "ft_peak_memory_bytes": 2_100_000_000 + k * 1_000_000})
            if regime.sensitivity:
                for batch in study_sensitivity.BATCH_SIZES:
                    for schedule in study_sensitivity.SCHEDULES:
                        # Lion's gap grows with the batch size; the cosine adds little. Each seed moves each
                        # optimizer by its own amount (the same at every batch size and schedule), so that the
                        # per-seed differences vary and their intervals have a width.
                        gain = (0.01 * np.log2(batch / 32) if name == focus else 0.0) + \
                            (0.004 if schedule == "cosine" else 0.0) + 0.002 * ((seed + k) % 3)
                        sensitivity.append({"optimizer": name, "seed": seed, "batch_size": batch, "schedule": schedule,
                                            **{a: float(v) for a, v in chosen.items()},
                                            "base_learning_rate": chosen["learning_rate"],
                                            "learning_rate": chosen["learning_rate"] * (batch / 32) ** 0.5,
                                            "scaling": "sqrt", "schedule_steps": 0, "warmup_steps": 0,
                                            "test_accuracy": regime.accuracy[name] - 0.02 * np.log2(batch / 32) / 3
                                            + gain + 0.003 * seed,
                                            "test_macro_f1": regime.accuracy[name] - 0.01,
                                            "val_accuracy": regime.accuracy[name], "val_loss": 0.5,
                                            "epochs_run": 30 + batch // 32, "best_epoch": 20, "train_seconds": 2.0})
            (folder / "metrics.json").write_text(json.dumps(metrics, indent=1))
            for repeat in range(3):
                timing.append({"optimizer": name, "repeat": repeat, "order": (repeat + k) % len(regime.optimizers),
                               "seconds_per_epoch": per_epoch * (1 + 0.01 * ((repeat + seed) % 3)), "epochs": 3,
                               **{f"config_{a}": v for a, v in chosen.items()}})
        executions.append({"optimizer": name, "seeds": list(range(regime.seeds)), "start": clock,
                           "end": clock + 300.0, "seconds": 300.0})
        clock += 50.0
    if sensitivity:
        pd.DataFrame(sensitivity).to_csv(out / study_sensitivity.FILE, index=False)
    timing_frame = pd.DataFrame(timing).drop_duplicates(["optimizer", "repeat"]).reset_index(drop=True)
    timing_frame.to_csv(out / "timing.csv", index=False)
    memory = []
    for name in regime.optimizers:
        slots = 1 if name == "lion" else (1 if name == "sgd" else 2)
        for model, parameters in (("head", (dim + 1) * dataset.n_classes), (regime.backbone, full_params)):
            memory.append({"model": model, "optimizer": name, "parameters": parameters, "weights_bytes": 4 * parameters,
                           "state_bytes": 4 * parameters * slots, "slots_per_weight": slots})
    pd.DataFrame(memory).to_csv(out / "memory.csv", index=False)
    baseline = ({"accuracy": 0.93, "available": True, "backbone": regime.backbone, "n_test": n_test, "reason": ""}
                if regime.weights == "imagenet" and not regime.synthetic else
                {"accuracy": None, "available": False, "backbone": regime.backbone, "n_test": n_test,
                 "reason": f"needs the ImageNet weights of {label}'s classifier (this study used weights="
                           f"{regime.weights if regime.weights in ('imagenet', 'none') else 'a file'}, without the "
                           f"classifier)"})
    if regime.classes is not None:  # a user's classes: not ImageNet's, no zero-training baseline
        baseline = {"accuracy": None, "available": False, "backbone": regime.backbone, "n_test": n_test,
                    "reason": "the classes of this data set are not all ImageNet classes, so ImageNet's classifier "
                              "cannot name them", "imagenet_classes": False}
    (out / "baseline.json").write_text(json.dumps(baseline, indent=1))
    study = {"aggregate_seconds": 4.0, "backbone": regime.backbone, "backbone_label": label,
             "cached_features_seconds": None, "data_dir": str(data_dir), "data_kind": data_kind,
             "executions": executions, "feature_dim": dim, "features_extraction_seconds": 61.5,
             "features_from_cache": False, "features_seconds": 62.0, "fine_tune": regime.fine_tune is not None,
             "fine_tune_epochs": 30, "fine_tune_seeds": regime.fine_tune_seeds or regime.seeds, "focus": focus, "grid_size": 9, "image_size": regime.image_size,
             "images": len(split), "jobs": min(3, len(regime.optimizers)), "machine": MACHINE,
             "optimizer_specs": {n: s.to_mapping() for n, s in specs.items()}, "optimizers": list(regime.optimizers),
             "pretrained": pretrained, "seeds": regime.seeds, "smoke": regime.synthetic, "split": "random",
             "started_at": "2026-12-01T10:00:00+00:00", "total_seconds": clock + 400.0,
             "trained_together": {n: True for n in regime.optimizers}, "trainings_seconds": clock + 250.0,
             "trainings_to_features": (clock + 250.0) / 61.5, "versions": VERSIONS, "weights": regime.weights}
    if regime.classes is not None:  # the data record a study of another folder writes
        from lionpoc.data import folders, records

        listing = folders.Listing(data_dir, data_dir, dataset, split.drop(columns="split"))
        study["data"] = records.record(listing, split, "random")
    if regime.cluster:
        study["cluster"] = {"workers": 4, "threads": 8, "gpus": 0, "hosts": ["node-a", "node-b"],
                            "tasks": [{"key": f"task-{i}"} for i in range(6)], "busy_seconds": 1320.0,
                            "idle_seconds": 95.0, "phases_seconds": {"features": 120.0, "executions": 480.0}}
    (out / "study.json").write_text(json.dumps(study, indent=1))
    if regime.benchmark:
        bench = {"created_at": "2026-12-02T09:30:00+00:00", "machine": MACHINE,
                 "cache": {"image_size": regime.image_size, "train_vectors": n_train, "cached_epoch_seconds": 0.012,
                           "grid_size": 9, "naive_epoch_seconds_per_image": 0.021, "images": 64, "speedup": 2100.0},
                 "extraction": {"pipeline_fraction_of_bare": 0.93, "pipeline_images_per_second": 41.5},
                 "optimizers": [{"model": "head", "optimizer": n, "batch": 32, "step_seconds": 0.0008,
                                 "state_bytes": 4 * dim * 15 * (1 if n == "lion" else 2)} for n in regime.optimizers]}
        (out / "benchmark.json").write_text(json.dumps(bench, indent=1))
    aggregate.write_tables(out)
    return out


THREE = ("adam", "adamw", "lion")
REGIMES = {
    # lionpoc study --smoke: synthetic shapes, random weights, one seed.
    "smoke": Regime(synthetic=True, weights="none", backbone="xception", cropped=False, seeds=1, per_breed_test=6,
                    accuracy={"adam": 0.78, "adamw": 0.76, "lion": 0.8}, epochs=30, image_size=71,
                    epochs_run={"adam": 30, "adamw": 30, "lion": 22}),
    # Real photos, random weights: the chain checked on real images.
    "random_weights": Regime(weights="none", backbone="mobilenet_v2", seeds=2, shared=0.05,
                             accuracy={"adam": 0.21, "adamw": 0.2, "lion": 0.23}),
    # Pretrained MobileNetV2, cropped photos: no significant difference.
    "pretrained_noise": Regime(weights="../shared/weights/mobilenet_v2_imagenet_notop.weights.h5", shared=0.85,
                               accuracy={"adam": 0.92, "adamw": 0.92, "lion": 0.93},
                               seconds={"adam": 0.021, "adamw": 0.021, "lion": 0.021}),
    # Pretrained, every comparison significant (Lion clearly ahead); a rival hits the epoch cap.
    "pretrained_significant": Regime(per_breed_test=20, shared=0.5, accuracy={"adam": 0.70, "adamw": 0.71, "lion": 0.9},
                                     epochs_run={"adam": 100, "adamw": 60, "lion": 30}),
    # Two optimizers.
    "two_optimizers": Regime(optimizers=("adam", "lion"), accuracy={"adam": 0.86, "lion": 0.85}, seeds=2),
    # Four optimizers with SGD, the question about Adam.
    "four_focus_adam": Regime(optimizers=("adam", "adamw", "lion", "sgd"), focus="adam",
                              accuracy={"adam": 0.9, "adamw": 0.88, "lion": 0.87, "sgd": 0.8}, backbone="xception",
                              cropped=False, weights="imagenet", epochs_run={"sgd": 100}, benchmark=True, cluster=True),
    # Fine-tuning after the head, on the first two of three seeds.
    "fine_tune": Regime(fine_tune={"adam": 0.9, "adamw": 0.91, "lion": 0.95}, seeds=3, fine_tune_seeds=2),
    # The sensitivity study.
    "sensitivity": Regime(sensitivity=True, seeds=2),
    # A folder of three classes of the user's, described by its dataset.yaml, the first class larger.
    "folder_classes": Regime(classes=("chêne_vert", "Érable champêtre", "frêne"), per_breed_test=12, seeds=2,
                             per_class_extra=120, cropped=False, weights="imagenet", backbone="mobilenet_v2",
                             accuracy={"adam": 0.8, "adamw": 0.81, "lion": 0.83},
                             description={"name": "Feuilles de nos arbres",
                                          "classes": {"frêne": "Frêne commun"},
                                          "description": "Une feuille par photo, sur fond clair.",
                                          "reference": "M. Dupont, 2024"}),
    # Forty classes named by their folders.
    "forty_classes": Regime(classes=tuple(f"classe_{i:02d}" for i in range(40)), per_breed_test=3, seeds=2,
                            cropped=False, weights="imagenet", backbone="mobilenet_v2",
                            accuracy={"adam": 0.7, "adamw": 0.7, "lion": 0.72}),
}


def main(argv: list[str]) -> None:
    out = Path(argv[0])
    for name in argv[1:] or REGIMES:
        write(out / name, REGIMES[name])
        print(f"wrote {out / name}")


if __name__ == "__main__":
    main(sys.argv[1:])
