"""The parameters of one training run, as one validated object.

The same names are used by the notebook's ``parameters`` cell, the YAML files under
``analysis/params/`` and the command line, so a value means the same thing everywhere. The
``optimizer:`` entry of a parameter file describes the optimizer itself (see
``lionpoc.model.optimizers``); ``RunConfig.optimizer`` is its name and ``RunConfig.spec`` the whole of it.
"""
from __future__ import annotations

import dataclasses
import inspect
import math
from pathlib import Path
from typing import Any, Mapping


from lionpoc.errors import LionpocError
from lionpoc.project import read_param_file
from lionpoc.model import backbones
from lionpoc.model import bracket
from lionpoc.model.optimizers import OptimizerSpec, _no_text_number

SPLITS = ("random", "official")
# Larger inputs gain nothing on photos of about 224 px, and a batch of them needs gigabytes: at 100,000 px
# one image alone would take 120 GB.
MAX_IMAGE_SIZE = 1024
# The most configurations one run's grid may reach, counting the values its edges may add (EXTENSIONS per axis,
# model/bracket.py): the shipped 3 x 3 grids reach 25; 20 x 18 would reach 440, refused.
MAX_GRID_CONFIGURATIONS = 400
EXTENSIONS = bracket.MAX_EXTENSIONS

# What --smoke changes: synthetic data, random weights, tiny images, short training.
SMOKE_OVERRIDES = {"weights": "none", "image_size": 71, "epochs": 30, "patience": 5, "fine_tune_epochs": 2,
                   "fine_tune_patience": 1}


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Everything that defines one run; ``validate`` is called on construction."""

    optimizer: str = ""              # the optimizer's name; its description is ``optimizer_spec``
    optimizer_spec: dict = dataclasses.field(default_factory=dict)
    grid: dict = dataclasses.field(default_factory=dict)
    epochs: int = 100
    patience: int = 10
    batch_size: int = 32
    dropout: float = 0.2
    seeds: list = dataclasses.field(default_factory=lambda: [0])
    image_size: int | None = None    # None: the backbone's own side (Xception 299, MobileNetV2 224)
    weights: str = "imagenet"
    backbone: str = backbones.DEFAULT   # a name of lionpoc.model.backbones
    data_dir: str | None = None
    results_dir: str = "results"
    cache_dir: str = "data/processed"
    split: str = "random"
    split_seed: int = 0
    train_fraction: float = 0.8
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    smoke: bool = False
    force: bool = False
    fine_tune: bool = False          # then train the backbone's last layers + the head on its cached activations
    fine_tune_epochs: int = 30
    fine_tune_patience: int = 5
    # Fine-tuning costs far more than a head (MobileNetV2 here: about 5 s an epoch against milliseconds), so it
    # runs on the seeds 0 to fine_tune_seeds - 1 only; the other seeds train their head alone.
    fine_tune_seeds: int = 3
    extend_grid: bool = True         # extend an axis whose chosen value is on the grid's edge (model/bracket.py)
    sensitivity: bool = False        # also train the chosen configuration at other batch sizes and schedules

    def __post_init__(self):
        if self.image_size is None and self.backbone in backbones.BACKBONES:
            object.__setattr__(self, "image_size", backbones.spec(self.backbone).default_size)
        self.validate()

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_params(cls, params: Mapping[str, Any], source: str = "parameters") -> "RunConfig":
        """Build from a mapping; unknown keys and wrong types are refused with the key named."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        params = dict(params)
        file_name = params.pop("optimizer_name", None)  # the parameter file's stem, when read by the study
        unknown = sorted(set(params) - set(fields))
        if unknown:
            raise LionpocError(
                f"{source}: unknown parameter(s) {', '.join(unknown)}; valid parameters are: "
                f"{', '.join(f for f in fields if f != 'optimizer_spec')}.")
        described = params.get("optimizer")
        if isinstance(described, Mapping) or "optimizer_spec" not in params:
            # A parameter file (or papermill by hand): the optimizer comes from the file, never from a default.
            spec = OptimizerSpec.from_mapping(described, file_name, source)
            params["optimizer"], params["optimizer_spec"] = spec.name, spec.to_mapping()
        for key in ("grid",):
            if isinstance(params.get(key), Mapping):
                for axis, values in params[key].items():
                    for value in values if isinstance(values, (list, tuple)) else [values]:
                        _no_text_number(value, f"{key}.{axis}", source)
        for key, value in params.items():
            if key in fields and "float" in str(fields[key].type):
                _no_text_number(value, key, source)
        values = {}
        for name, value in params.items():
            # None means "the default" for parameters that cannot be None (the notebook's
            # parameters cell uses it so that smoke=True can pick the smoke defaults).
            if value is None and "None" not in str(fields[name].type):
                continue
            values[name] = _coerce(name, value, fields[name], source)
        if values.get("smoke"):
            # Smoke values are defaults: a value given explicitly still wins.
            values = {**SMOKE_OVERRIDES, **{k: v for k, v in values.items() if v is not None or k not in SMOKE_OVERRIDES}}
        try:
            return cls(**values)
        except LionpocError as exc:
            raise LionpocError(f"{source}: {exc}") from None

    @classmethod
    def from_namespace(cls, namespace: Mapping[str, Any]) -> "RunConfig":
        """Build from the variables of the notebook's ``parameters`` cell (``globals()``).

        A variable papermill injected that is not a parameter (a typo in a YAML file) is refused;
        modules, functions, classes and IPython's own names are not parameters and are ignored.
        """
        names = [f.name for f in dataclasses.fields(cls)] + ["optimizer_name"]
        ipython = {"In", "Out", "exit", "quit", "get_ipython", "open"}
        extra = sorted(k for k, v in namespace.items() if k not in names and k not in ipython
                       and not k.startswith("_") and not inspect.ismodule(v) and not callable(v))
        return cls.from_params({**{name: namespace[name] for name in names if name in namespace},
                                **{name: namespace[name] for name in extra}}, source="notebook parameters")

    @classmethod
    def from_yaml(cls, path: str | Path, **overrides) -> "RunConfig":
        """Read a parameter file (e.g. ``analysis/params/lion.yaml``) and apply overrides."""
        return cls.from_params({**read_param_file(path), **overrides}, source=str(path))

    def to_params(self) -> dict:
        """The run as papermill parameters: the same shape as a parameter file (``optimizer:`` a mapping)."""
        params = dataclasses.asdict(self)
        params["optimizer"] = params.pop("optimizer_spec")
        return params

    @property
    def spec(self) -> OptimizerSpec:
        """The optimizer this run trains (validated when the run was built)."""
        return OptimizerSpec.from_mapping(self.optimizer_spec, self.optimizer, "run parameters")

    def replace(self, **changes) -> "RunConfig":
        return dataclasses.replace(self, **changes)

    def fine_tunes(self, seed: int) -> bool:
        """Whether ``seed`` also fine-tunes (``fine_tune`` on, and ``seed`` below ``fine_tune_seeds``)."""
        return self.fine_tune and seed < self.fine_tune_seeds

    # ------------------------------------------------------------------ validation
    def validate(self) -> None:
        if not self.optimizer_spec or self.optimizer_spec.get("name") != self.optimizer:
            raise LionpocError("the run does not describe its optimizer: its parameters need an `optimizer:` mapping "
                               "(see analysis/params/*.yaml).")
        _check(self.epochs >= 1, f"epochs must be at least 1, got {self.epochs}.")
        _check(self.patience >= 0, f"patience must be 0 or more, got {self.patience}.")
        _check(self.batch_size >= 1, f"batch_size must be at least 1, got {self.batch_size}.")
        _check(0 <= self.dropout < 1, f"dropout must be in [0, 1), got {self.dropout}.")
        _check(isinstance(self.seeds, (list, tuple)) and len(self.seeds) > 0
               and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in self.seeds)
               and len(set(self.seeds)) == len(self.seeds),
               f"seeds must be a non-empty list of distinct integers >= 0, got {self.seeds!r}.")
        _check(self.split_seed >= 0, f"split_seed must be 0 or more, got {self.split_seed}.")
        _check(self.backbone in backbones.BACKBONES,
               f"unknown backbone {self.backbone!r}; valid backbones are: {', '.join(backbones.names())}.")
        base = backbones.spec(self.backbone)
        _check(self.image_size >= base.min_size,
               f"image_size must be at least {base.min_size} pixels ({base.label}'s minimum), got {self.image_size}.")
        _check(self.image_size <= MAX_IMAGE_SIZE,
               f"image_size must be at most {MAX_IMAGE_SIZE} pixels (larger inputs need gigabytes of memory per "
               f"batch and gain nothing on photos of about 224 px), got {self.image_size}.")
        _check(self.split in SPLITS, f"unknown split {self.split!r}; valid splits are: {', '.join(SPLITS)}.")
        fractions = (self.train_fraction, self.val_fraction, self.test_fraction)
        _check(all(0 < f < 1 for f in fractions),
               f"split fractions must each lie strictly between 0 and 1, got {fractions}.")
        _check(math.isclose(sum(fractions), 1.0, abs_tol=1e-6),
               f"split fractions must sum to 1, got {' + '.join(map(str, fractions))} = {sum(fractions):g}.")
        _check(self.fine_tune_epochs >= 1, f"fine_tune_epochs must be at least 1, got {self.fine_tune_epochs}.")
        _check(self.fine_tune_patience >= 0, f"fine_tune_patience must be 0 or more, got {self.fine_tune_patience}.")
        _check(self.fine_tune_seeds >= 1, f"fine_tune_seeds must be at least 1, got {self.fine_tune_seeds}.")
        self._validate_grid()

    def _validate_grid(self) -> None:
        spec = self.spec
        expected = spec.axes
        _check(isinstance(self.grid, Mapping) and set(self.grid) == set(expected),
               f"grid for {self.optimizer} (decay: {spec.decay}) must have exactly the key(s) {', '.join(expected)}, "
               f"got {', '.join(sorted(self.grid)) or 'none' if isinstance(self.grid, Mapping) else repr(self.grid)}.")
        for axis, values in self.grid.items():
            _check(isinstance(values, (list, tuple)) and len(values) > 0,
                   f"grid.{axis} must be a non-empty list of numbers, got {values!r}.")
            for v in values:
                _check(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v),
                       f"grid.{axis} must hold numbers, got {v!r}.")
        _check(all(v > 0 for v in self.grid["learning_rate"]),
               f"grid.learning_rate must be > 0, got {list(self.grid['learning_rate'])}.")
        for second in expected[1:]:
            _check(all(v >= 0 for v in self.grid[second]), f"grid.{second} must be >= 0, got {list(self.grid[second])}.")
        for axis, values in self.grid.items():
            _check(len(set(values)) == len(values), f"grid.{axis} repeats a value: {list(values)}.")
        sizes = [len(self.grid[axis]) for axis in expected]
        most = math.prod(n + EXTENSIONS for n in sizes)  # each axis may grow by EXTENSIONS values at its edges
        _check(most <= MAX_GRID_CONFIGURATIONS,
               f"the grid of {self.optimizer} has {' x '.join(map(str, sizes))} = {math.prod(sizes)} configurations, "
               f"up to {most} once its edges are extended, more than the {MAX_GRID_CONFIGURATIONS} a run trains "
               f"(each configuration is a column of one weight matrix, with its own optimizer state and activations: "
               f"a 100 x 100 grid's kernel passed 9 GB in two minutes); narrow it, e.g. to 3 to 7 values per axis.")

    # ------------------------------------------------------------------ derived
    def grid_points(self) -> list[dict]:
        """The grid as a list of configurations, in a fixed order (learning rate, then decay)."""
        import itertools

        axes = self.spec.axes
        return [{axis: float(v) for axis, v in zip(axes, values)}
                for values in itertools.product(*(self.grid[axis] for axis in axes))]


def load_run(name: str, root: Path, overrides: Mapping[str, Any] | None = None) -> RunConfig:
    """The run of optimizer ``name``: ``analysis/params/<name>.yaml`` with ``overrides`` applied, validated.

    The optimizer comes from the file (its ``optimizer:`` mapping, named for the file), never from a default.
    """
    from lionpoc.model.optimizers import available, check_reference, params_dir

    path = params_dir(root) / f"{name}.yaml"
    if not path.exists():
        raise LionpocError(f"unknown optimizer {name!r}: there is no {path}; known optimizers: "
                           f"{', '.join(available(root)) or 'none'} (adding one = adding its parameter file).")
    params = read_param_file(path)
    if not isinstance(params.get("optimizer"), Mapping):
        # Validate the description first, so that the sentence is about the file's optimizer entry.
        OptimizerSpec.from_mapping(params.get("optimizer"), name, str(path))
    run = RunConfig.from_params({**params, **(overrides or {}), "optimizer_name": name}, source=str(path))
    check_reference(run.spec, root, str(path))
    return run


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise LionpocError(message)


def _coerce(name: str, value: Any, field: dataclasses.Field, source: str) -> Any:
    """Accept the field's type (ints for floats too); refuse anything else with the key named."""
    kind = field.type if isinstance(field.type, str) else field.type.__name__
    if value is None and "None" in kind:
        return None
    ok = {
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "dict": isinstance(value, dict),
        "list": isinstance(value, (list, tuple)),
    }.get(kind.split(" ")[0], isinstance(value, str))
    if kind.startswith("str") and isinstance(value, Path):
        return str(value)
    if not ok:
        raise LionpocError(f"{source}: parameter {name} must be of type {kind}, got {value!r}.")
    return float(value) if kind == "float" else value
