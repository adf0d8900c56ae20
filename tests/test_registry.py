"""The optimizer registry: each optimizer described once, in its parameter file, and validated."""
import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import yaml

from conftest import ROOT, learnable_features_for_registry as features_for, spec
from lionpoc.errors import LionpocError
from lionpoc.model import optimizers
from lionpoc.model.lion import Lion
from lionpoc.model.head import grid_search
from lionpoc.model.optimizers import OptimizerSpec

ADAMW = yaml.safe_load((ROOT / "analysis" / "params" / "adamw.yaml").read_text())["optimizer"]


def test_the_shipped_files_make_the_registry():
    names = optimizers.available(ROOT)
    assert names == ["adam", "adamw", "lion", "sgd"]
    assert optimizers.default_study(ROOT) == ["adam", "adamw", "lion"]  # SGD is shipped, not in the default study
    assert optimizers.default_focus(["adam", "adamw", "lion"], ROOT) == "lion"
    labels = {name: s.label for name, s in optimizers.registry(ROOT).items()}
    assert labels == {"adam": "Adam", "adamw": "AdamW", "lion": "Lion", "sgd": "SGD"}
    colours = [s.colour for s in optimizers.registry(ROOT).values()]
    assert len(set(colours)) == len(colours)  # every optimizer keeps its own colour in every figure
    assert spec("adam").axes == ("learning_rate", "l2") and spec("adamw").axes == ("learning_rate", "weight_decay")
    # What the report says of each optimizer comes from its file, never from its class's name.
    facts = {name: (s.update, s.implementation) for name, s in optimizers.registry(ROOT).items()}
    assert facts == {"adam": ("moments", "keras"), "adamw": ("moments", "keras"), "lion": ("sign", "ours"),
                     "sgd": ("gradient", "keras")}
    assert spec("lion").to_mapping()["update"] == "sign"
    silent = OptimizerSpec.from_mapping({k: v for k, v in ADAMW.items() if k not in ("update", "implementation")})
    assert silent.update is None and silent.implementation is None  # optional: the report then says nothing of them


def test_each_spec_builds_what_its_file_says():
    sgd = spec("sgd").build(1e-2)
    assert type(sgd) is keras.optimizers.SGD and sgd.momentum == 0.9 and sgd.nesterov is True
    lion = spec("lion").build(1e-4, 0.3)
    assert type(lion) is Lion and lion.weight_decay == 0.3 and (lion.beta_1, lion.beta_2) == (0.9, 0.99)
    assert type(spec("adamw").build(1e-3, 0.01)) is keras.optimizers.AdamW
    with pytest.raises(LionpocError, match="Adam has no decoupled weight decay"):
        spec("adam").build(1e-3, 0.1)  # its second axis is the trainer's L2 penalty


@pytest.mark.parametrize("changes, message", [
    ({"class": "Adamm"}, r"unknown optimizer class 'Adamm'; use one of keras.optimizers \(.*AdamW.*\)"),
    ({"class": "SGD", "arguments": {"momentun": 0.9}}, r"SGD refuses its arguments \{'momentun': 0.9\}"),
    ({"arguments": {"beta_1": "9e-1"}}, r"optimizer.arguments.beta_1 is '9e-1', which YAML reads as text.*9.0e-1"),
    ({"arguments": {"learning_rate": 0.1}}, "cannot fix learning_rate: it comes from the grid"),
    ({"decay": "L2"}, "`decay: L2` is not one of l2"),
    ({"colour": "green"}, "must be a quoted hex colour"),
    ({"name": "Adam W"}, "must be lower-case letters"),
    ({"fine_tune": {"learning_rate_factors": []}}, "`fine_tune:` must be"),
    ({"coordinatewise": "yes"}, "`coordinatewise:` must be true or false"),
    ({"betas": [0.9, 0.99]}, "unknown key\\(s\\) under `optimizer:`: betas"),
    # Checked here, not as "NotImplementedError: in user code" or a NaN loss inside the notebook.
    ({"class": "Optimizer"}, "`class: Optimizer` is Keras's base class of optimizers, which cannot train anything"),
    ({"arguments": {"beta_1": "abc"}}, "optimizer.arguments.beta_1 is 'abc', but AdamW's beta_1 is a number"),
    ({"arguments": {"beta_1": float("nan")}}, "optimizer.arguments.beta_1 is nan, which is not a finite number"),
    ({"arguments": {"epsilon": float("inf")}}, "optimizer.arguments.epsilon is inf, which is not a finite number"),
    ({"arguments": {"beta_1": 1.0}}, r"AdamW with the arguments \{'beta_1': 1.0\} turns finite weights and gradients "
                                      "into NaN or infinite values in one step"),
    ({"arguments": {"beta_1": [0.9, 0.99]}}, r"optimizer.arguments.beta_1 is \[0.9, 0.99\], but AdamW's beta_1 is a "
                                              "number"),
    ({"reference": ["a", "b"]}, "must be one key of report/references.bib"),
    ({"update": "adaptive"}, "`update: adaptive` is not one of sign .*, moments .* or gradient"),
    ({"implementation": "google"}, "`implementation: google` is not one of keras .* or ours"),
    ({"implementation": "ours"}, "`implementation: ours` does not match `class: AdamW`"),
    ({"class": "lionpoc>Lion", "implementation": "keras"}, "`implementation: keras` does not match `class: lionpoc>Lion`"),
])
def test_a_bad_description_is_refused_with_one_sentence(changes, message):
    with pytest.raises(LionpocError, match=message):
        OptimizerSpec.from_mapping({**ADAMW, **changes}, source="adamw.yaml")


def test_missing_descriptions_say_what_to_write():
    with pytest.raises(LionpocError, match="does not describe its optimizer: add an `optimizer:` mapping"):
        OptimizerSpec.from_mapping(None, "adam", "adam.yaml")
    with pytest.raises(LionpocError, match="names an optimizer without describing it"):
        OptimizerSpec.from_mapping("adam", "adam", "adam.yaml")
    with pytest.raises(LionpocError, match="lacks `class:`"):
        OptimizerSpec.from_mapping({"name": "adam", "decay": "l2"}, "adam", "adam.yaml")
    with pytest.raises(LionpocError, match="named 'adamw' but the file is named for 'adam'"):
        OptimizerSpec.from_mapping(ADAMW, "adam", "adam.yaml")


@pytest.mark.slow
def test_an_optimizer_that_is_not_coordinatewise_trains_one_configuration_at_a_time():
    """Marked `coordinatewise: false`, the grid is trained configuration by configuration; for an optimizer
    that is in fact coordinate-wise, the two ways must give the same heads (the joint one is exact)."""
    (x, y), (xv, yv) = features_for()
    points = [{"learning_rate": lr, "weight_decay": wd} for lr in (1e-3, 1e-2) for wd in (0.01, 0.3)]
    options = dict(epochs=15, patience=3, batch_size=32, dropout=0.2, seed=1)
    joint = spec("adamw")
    alone = dataclasses.replace(joint, coordinatewise=False)
    logs = []
    _, together = grid_search(x, y, xv, yv, joint, points, 15, log=lambda *_: None, **options)
    _, one_by_one = grid_search(x, y, xv, yv, alone, points, 15, log=logs.append, **options)
    assert "trained one at a time" in logs[0]
    assert list(together["epochs_run"]) == list(one_by_one["epochs_run"])
    np.testing.assert_allclose(together["val_loss"], one_by_one["val_loss"], rtol=1e-4)


def _project_copy(tmp_path: Path) -> Path:
    """The parts of the project a study reads (the code comes from this checkout's src); ``data/`` is the
    checkout's, so that the smoke study reads the synthetic set and the feature cache the other smoke studies
    share instead of making its own (the fingerprint leaves ``data/`` out)."""
    copy = tmp_path / "project"
    copy.mkdir()
    for name in ("_quarto.yml", "analysis", "report"):
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, copy / name)
    (ROOT / "data").mkdir(exist_ok=True)
    (copy / "data").symlink_to(ROOT / "data")
    return copy


def _fingerprint(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.relative_to(folder).parts[0] in
            ("results", "data", "_output")}


@pytest.mark.slow
def test_adding_an_optimizer_is_adding_one_file(tmp_path):
    """Keras's Nadam, which the project has never heard of: one new parameter file, nothing else changes."""
    project = _project_copy(tmp_path)
    before = _fingerprint(project)
    (project / "analysis" / "params" / "nadam.yaml").write_text(
        "# Nadam (Dozat, 2016), from Keras: Adam with Nesterov momentum.\n"
        "optimizer:\n  name: nadam\n  label: Nadam\n  colour: \"#17becf\"\n  class: Nadam\n  decay: decoupled\n"
        "grid:\n  learning_rate: [1.0e-3, 3.0e-3]\n  weight_decay: [0.0, 0.01]\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-m", "lionpoc.cli", "study", "--smoke", "--optimizers", "adam,nadam",
                           "--no-render", "--results-dir", str(tmp_path / "results")], cwd=project, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((tmp_path / "results" / "nadam" / "seed-0" / "metrics.json").read_text())
    assert metrics["optimizer"] == "nadam" and metrics["grid_size"] == 4 and metrics["test_accuracy"] > 0.2
    record = json.loads((tmp_path / "results" / "study.json").read_text())
    assert record["optimizers"] == ["adam", "nadam"] and record["optimizer_specs"]["nadam"]["label"] == "Nadam"
    assert record["focus"] == "nadam"  # no file of this study says focus: true: the last named is the question
    pairs = (tmp_path / "results" / "pairs.csv").read_text()
    assert "nadam,adam" in pairs  # focus − rival
    after = _fingerprint(project)
    assert {k: v for k, v in after.items() if k != "analysis/params/nadam.yaml"} == before


@pytest.mark.slow
def test_papermill_by_hand_runs_every_parameter_file_and_refuses_an_empty_one(tmp_path):
    """`papermill analysis/train.ipynb out.ipynb -f analysis/params/<name>.yaml` works for each shipped file
    (here with the smoke settings, so that it runs offline); a file that does not describe its optimizer
    stops in the notebook's first cell with that sentence and writes no run."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "TF_CPP_MIN_LOG_LEVEL": "3"}
    # The project's feature cache (that of every smoke study): one feature pass at most, not one per file.
    common = ["-p", "smoke", "True", "-p", "epochs", "3", "-p", "patience", "1", "--no-progress-bar", "-k", "python3"]
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing here\n")
    for name in [*optimizers.available(ROOT), "empty"]:
        params = empty if name == "empty" else ROOT / "analysis" / "params" / f"{name}.yaml"
        results = tmp_path / f"results-{name}"
        done = subprocess.run([sys.executable, "-m", "papermill", str(ROOT / "analysis" / "train.ipynb"),
                               str(tmp_path / f"{name}.ipynb"), "-f", str(params), "-p", "results_dir", str(results),
                               *common], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        if name == "empty":
            assert done.returncode != 0 and "does not describe its optimizer" in done.stderr
            assert not results.exists()
        else:
            assert done.returncode == 0, done.stderr[-2000:]
            metrics = json.loads((results / name / "seed-0" / "metrics.json").read_text())
            assert metrics["optimizer"] == name and metrics["params"]["optimizer"]["name"] == name


def test_a_reference_missing_from_the_bibliography_is_refused(tmp_path):
    """The report would cite nothing (Quarto only warns); the file and the key are named, with the keys there are."""
    project = tmp_path / "project"
    shutil.copytree(ROOT / "analysis", project / "analysis")
    shutil.copytree(ROOT / "report", project / "report")
    path = project / "analysis" / "params" / "adamw.yaml"
    path.write_text(path.read_text().replace("reference: loshchilov2019adamw", "reference: loshchilov2019"))
    with pytest.raises(LionpocError) as refused:
        optimizers.load("adamw", project)
    assert str(refused.value).startswith(f"{path}: `reference: loshchilov2019` is not a key of "
                                         f"{project / 'report' / 'references.bib'} (whose keys are ")
    assert "loshchilov2019adamw" in str(refused.value)
