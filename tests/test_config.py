import math
from pathlib import Path

import pytest
import yaml

from conftest import run_config

from lionpoc.study.config import SMOKE_OVERRIDES, RunConfig
from lionpoc.errors import LionpocError

PARAMS = Path(__file__).resolve().parents[1] / "analysis" / "params"
LION = yaml.safe_load((PARAMS / "lion.yaml").read_text())["optimizer"]


def test_param_files_are_valid_and_give_equal_budgets():
    configs = {name: RunConfig.from_yaml(PARAMS / f"{name}.yaml") for name in ("adam", "adamw", "lion", "sgd")}
    sizes = {name: len(cfg.grid_points()) for name, cfg in configs.items()}
    assert len(set(sizes.values())) == 1 and sizes["lion"] >= 4
    assert "weight_decay" not in configs["adam"].grid  # Adam has no decoupled decay


def test_lion_grid_follows_the_papers_advice():
    geo = lambda v: math.exp(sum(map(math.log, v)) / len(v))  # noqa: E731
    adamw, lion = (yaml.safe_load((PARAMS / f"{n}.yaml").read_text())["grid"] for n in ("adamw", "lion"))
    lr_ratio = geo(adamw["learning_rate"]) / geo(lion["learning_rate"])
    wd_ratio = geo(lion["weight_decay"]) / geo(adamw["weight_decay"])
    assert 3 <= lr_ratio <= 10 and 3 <= wd_ratio <= 10


@pytest.mark.parametrize("changes, message", [
    ({"optimizer": None}, "does not describe its optimizer"),
    ({"optimizer": "lion"}, "names an optimizer without describing it"),
    ({"grid": {"learning_rate": ["1e-3"], "weight_decay": [0.1]}}, r"YAML reads as text.*1.0e-3"),
    ({"dropout": "2e-1"}, r"dropout is '2e-1', which YAML reads as text"),
    ({"grid": {"learning_rate": [0.0], "weight_decay": [0.1]}}, "grid.learning_rate must be > 0"),
    ({"grid": {"learning_rate": [1e-3], "weight_decay": [-1.0]}}, "weight_decay must be >= 0"),
    ({"epochs": 0}, "epochs must be at least 1"),
    ({"patience": -1}, "patience must be 0 or more"),
    ({"train_fraction": 0.7}, "must sum to 1"),
    ({"image_size": 32}, "at least 71"),
    ({"colour": "red"}, "unknown parameter"),
    ({"grid": {"learning_rate": [1e-4, 1e-4], "weight_decay": [0.1]}}, "repeats a value"),
    ({"grid": {"learning_rate": [1e-4], "l2": [0.1]}}, r"decay: decoupled\) must have exactly the key\(s\) "
                                                       "learning_rate, weight_decay"),
    ({"epochs": "ten"}, "epochs must be of type int"),
    # Numbers that are not finite, wherever they enter (YAML's .nan and .inf are floats).
    ({"dropout": float("nan")}, r"dropout must be in \[0, 1\), got nan"),
    ({"train_fraction": float("nan")}, "split fractions must each lie strictly between 0 and 1"),
    ({"grid": {"learning_rate": [float("inf")], "weight_decay": [0.1]}}, "grid.learning_rate must hold numbers, got inf"),
    ({"grid": {"learning_rate": [1e-4], "weight_decay": [float("nan")]}}, "grid.weight_decay must hold numbers, got nan"),
    ({"optimizer": {**LION, "arguments": {"beta_1": float("nan")}}},
     "optimizer.arguments.beta_1 is nan, which is not a finite number"),
    ({"optimizer": {**LION, "fine_tune": {"learning_rate_factors": [0.1, float("inf")]}}}, "`fine_tune:` must be"),
    # A grid's bound, with its numbers: 100 x 100 once passed 9 GB in its kernel.
    ({"grid": {"learning_rate": [i * 1e-5 for i in range(1, 101)], "weight_decay": [i * 0.1 for i in range(100)]}},
     r"the grid of lion has 100 x 100 = 10000 configurations, up to 10404 once its edges are extended, more than "
     r"the 400 a run trains"),
])
def test_bad_values_are_refused_with_a_clear_sentence(changes, message):
    with pytest.raises(LionpocError, match=message):
        RunConfig.from_params({"optimizer": LION, "grid": {"learning_rate": [1e-4], "weight_decay": [0.1]},
                               **changes})


def test_smoke_values_are_defaults_that_explicit_values_override():
    lion = {"optimizer": LION, "grid": {"learning_rate": [1e-4], "weight_decay": [0.1]}}
    cfg = RunConfig.from_params({**lion, "smoke": True, "epochs": None})
    assert all(getattr(cfg, k) == v for k, v in SMOKE_OVERRIDES.items())
    assert RunConfig.from_params({**lion, "smoke": True, "epochs": 3}).epochs == 3
    assert RunConfig.from_params({**lion, "epochs": None}).epochs == 100


def test_grid_points_cover_the_product_in_order():
    cfg = run_config("adam", grid={"learning_rate": [1e-3, 1e-2], "l2": [0.0, 1e-4]})
    assert cfg.grid_points() == [{"learning_rate": 1e-3, "l2": 0.0}, {"learning_rate": 1e-3, "l2": 1e-4},
                                 {"learning_rate": 1e-2, "l2": 0.0}, {"learning_rate": 1e-2, "l2": 1e-4}]


def test_the_largest_grid_allowed_is_the_bound_with_its_extensions():
    """18 x 18 (20 x 20 = 400 once both axes are extended twice) is accepted; one value more is refused."""
    grid = {"learning_rate": [i * 1e-5 for i in range(1, 19)], "weight_decay": [i * 0.1 for i in range(18)]}
    assert len(RunConfig.from_params({"optimizer": LION, "grid": grid}).grid_points()) == 324
    with pytest.raises(LionpocError, match="up to 420 once its edges are extended"):
        RunConfig.from_params({"optimizer": LION, "grid": {**grid, "weight_decay": [i * 0.1 for i in range(19)]}})


def test_the_run_key_holds_the_code_that_trains_it(tmp_path, monkeypatch):
    """A run made by other code (an edited checkout, a worker with another install) is not kept as this code's."""
    import shutil
    import subprocess
    import sys

    import lionpoc
    from lionpoc import machine
    from lionpoc.study import run_files

    cfg = run_config("lion")
    key = run_files.run_key(cfg, 0, "features")
    monkeypatch.setattr(machine, "code", lambda: {"sha256": "0" * 16, "commit": None, "dirty": None})
    assert run_files.run_key(cfg, 0, "features") != key
    monkeypatch.undo()
    # The identity is a hash of the package's sources: one changed line in model/grid.py changes it, the
    # report's code does not (it only presents the numbers).
    package = Path(lionpoc.__file__).parent
    copy = tmp_path / "src"
    shutil.copytree(package, copy / "lionpoc", ignore=shutil.ignore_patterns("__pycache__"))

    def identity():
        done = subprocess.run([sys.executable, "-c", "from lionpoc import machine; print(machine.code()['sha256'])"],
                              env={"PYTHONPATH": str(copy), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                              check=True, cwd=tmp_path)
        return done.stdout.strip()

    assert identity() == machine.code()["sha256"]
    (copy / "lionpoc" / "report" / "prose.py").write_text("# reworded\n", encoding="utf-8")
    assert identity() == machine.code()["sha256"]
    grid = copy / "lionpoc" / "model" / "grid.py"
    grid.write_text(grid.read_text() + "\n# changed\n")
    assert identity() != machine.code()["sha256"]
