"""The optimizer registry: what each optimizer of a study is, read from its parameter file, and how to build it.

Each optimizer is described once, in ``analysis/params/<name>.yaml``, under the ``optimizer:`` key::

    optimizer:
      name: adamw                 # the file's stem; results go to results/adamw/
      label: AdamW                # how the report names it
      colour: "#2ca02c"           # its colour in every figure
      class: AdamW                # a class of keras.optimizers, or a registered one ("lionpoc>Lion", ours)
      arguments: {}               # fixed keyword arguments (e.g. momentum: 0.9, nesterov: true)
      decay: decoupled            # what the grid's second axis means: l2 | decoupled | none
      coordinatewise: true        # acts coordinate by coordinate (so a grid trains as the columns of one matrix)
      update: moments             # its kind of step, as the report tells it: sign | moments | gradient
      implementation: keras       # whose code it is: keras (a class of keras.optimizers) | ours (registered here)
      reference: loshchilov2019adamw   # its key in report/references.bib
      fine_tune: {learning_rate_factors: [0.0333, 0.1, 0.3]}   # fine-tuning rates, from the head's chosen one

The run's own settings (``grid:``, epochs, ...) sit beside it in the same file. Keras builds the optimizer
from its own registry (``keras.optimizers.get``), our Lion included (``register_keras_serializable``), so a
new optimizer is a new file, never a new ``if``.
"""
from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from lionpoc import project
from lionpoc.errors import LionpocError

# The grid's second axis, by what the optimizer's decay means: a penalty added to the loss (coupled,
# it goes through the optimizer's normalisation), a decay applied to the weights by the optimizer
# itself (decoupled), or no second axis.
DECAY_AXES = {"l2": "l2", "decoupled": "weight_decay", "none": None}
DEFAULT_FINE_TUNE = {"learning_rate_factors": [1 / 30, 1 / 10, 3 / 10]}
# The kind of step each weight takes, as the report tells it: the sign of a moving average of the gradients, the same
# size for every weight (Lion); a step scaled for each weight by the gradient's moments (Adam, AdamW); the gradient
# itself, smoothed by a momentum or not (SGD). Two optimizers of one kind differ only by their regularisation when
# their classes match too.
UPDATES = ("sign", "moments", "gradient")
# Whose code builds the optimizer: Keras's own class, or a class this project writes and registers with Keras.
IMPLEMENTATIONS = ("keras", "ours")
SPEC_KEYS = ("name", "label", "colour", "class", "arguments", "decay", "coordinatewise", "update", "implementation",
             "reference", "fine_tune", "focus", "default_study")
REQUIRED_KEYS = ("class", "decay")
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
# Keras's abstract optimizers: named as classes, but they cannot take a step.
ABSTRACT = ("Optimizer",)
NOT_CHOICES = ("Optimizer", "LossScaleOptimizer")  # the latter wraps another optimizer
_STEPPED: set = set()   # (class, arguments, decay) whose trial step passed in this process
FALLBACK_COLOURS = ("#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


@dataclasses.dataclass(frozen=True)
class OptimizerSpec:
    """One optimizer as a study uses it. Build with ``from_mapping`` (validated)."""

    name: str
    label: str
    colour: str
    keras_class: str
    arguments: dict
    decay: str
    coordinatewise: bool = True
    reference: str | None = None
    fine_tune: dict = dataclasses.field(default_factory=lambda: dict(DEFAULT_FINE_TUNE))
    focus: bool = False            # the optimizer the study's question is about (Lion in this project)
    update: str | None = None      # its kind of step (UPDATES); None: the report says nothing of it
    implementation: str | None = None  # keras or ours (IMPLEMENTATIONS); None: the report says nothing of it
    default_study: bool = True     # part of `lionpoc study` without --optimizers

    # ------------------------------------------------------------------ reading
    @classmethod
    def from_mapping(cls, value: Any, name: str | None = None, source: str = "parameters") -> "OptimizerSpec":
        """Validate the ``optimizer:`` mapping of a parameter file; one sentence per mistake, naming the key."""
        if value is None or value == {}:
            raise LionpocError(f"{source}: it does not describe its optimizer: add an `optimizer:` mapping with at "
                               f"least `class:` (e.g. AdamW) and `decay:` (l2, decoupled or none); see the README.")
        if isinstance(value, str):
            raise LionpocError(f"{source}: `optimizer: {value}` names an optimizer without describing it; write "
                               f"`optimizer:` as a mapping with `name: {value}`, `class:` and `decay:` "
                               f"(see analysis/params/adamw.yaml).")
        if not isinstance(value, Mapping):
            raise LionpocError(f"{source}: `optimizer:` must be a mapping (name, label, class, decay, ...), "
                               f"got {value!r}.")
        unknown = sorted(set(value) - set(SPEC_KEYS))
        if unknown:
            raise LionpocError(f"{source}: unknown key(s) under `optimizer:`: {', '.join(unknown)}; valid keys are: "
                               f"{', '.join(SPEC_KEYS)}.")
        missing = [k for k in REQUIRED_KEYS if k not in value]
        if missing:
            raise LionpocError(f"{source}: `optimizer:` lacks {', '.join(f'`{k}:`' for k in missing)} "
                               f"(class: a Keras optimizer such as AdamW or SGD, or lionpoc>Lion; "
                               f"decay: l2, decoupled or none).")
        own = value.get("name", name)
        if own is None:
            raise LionpocError(f"{source}: `optimizer:` lacks `name:`.")
        if name is not None and own != name:
            raise LionpocError(f"{source}: the optimizer is named {own!r} but the file is named for {name!r}; "
                               f"set `name: {name}` under `optimizer:` or rename the file.")
        if not isinstance(own, str) or not NAME.match(own):
            raise LionpocError(f"{source}: optimizer name {own!r} must be lower-case letters, digits and _ "
                               f"(it names the results folder).")
        decay = value["decay"]
        if decay not in DECAY_AXES:
            raise LionpocError(f"{source}: `decay: {decay}` is not one of l2 (a penalty added to the loss), "
                               f"decoupled (weight decay applied by the optimizer) or none.")
        arguments = value.get("arguments") or {}
        if not isinstance(arguments, Mapping):
            raise LionpocError(f"{source}: `arguments:` must be a mapping of keyword arguments, got {arguments!r}.")
        for key, arg in arguments.items():
            if key in ("learning_rate", "weight_decay"):
                raise LionpocError(f"{source}: `arguments:` cannot fix {key}: it comes from the grid.")
            _no_text_number(arg, f"optimizer.arguments.{key}", source)
            _finite(arg, f"optimizer.arguments.{key}", source)
        colour = value.get("colour")
        if colour is not None and (not isinstance(colour, str) or not COLOUR.match(colour)):
            raise LionpocError(f"{source}: `colour: {colour}` must be a quoted hex colour such as \"#1f77b4\".")
        fine = {**DEFAULT_FINE_TUNE, **(value.get("fine_tune") or {})}
        factors = fine.get("learning_rate_factors")
        if set(fine) != {"learning_rate_factors"} or not isinstance(factors, list) or not factors or not all(
                isinstance(f, (int, float)) and not isinstance(f, bool) and math.isfinite(f) and f > 0
                for f in factors):
            raise LionpocError(f"{source}: `fine_tune:` must be `{{learning_rate_factors: [positive numbers]}}`, "
                               f"got {value.get('fine_tune')!r}.")
        reference = value.get("reference")
        if reference is not None and (not isinstance(reference, str) or not re.fullmatch(r"[\w:.-]+", reference)):
            raise LionpocError(f"{source}: `reference: {reference}` must be one key of report/references.bib "
                               "(letters, digits, _ - : .), e.g. chen2023lion.")
        update, implementation = value.get("update"), value.get("implementation")
        if update is not None and update not in UPDATES:
            raise LionpocError(f"{source}: `update: {update}` is not one of sign (the sign of a moving average of the "
                               f"gradients, as Lion), moments (a step scaled per weight by the gradient's moments, as "
                               f"Adam) or gradient (the gradient itself, with or without momentum, as SGD).")
        if implementation is not None and implementation not in IMPLEMENTATIONS:
            raise LionpocError(f"{source}: `implementation: {implementation}` is not one of keras (a class of "
                               f"keras.optimizers) or ours (a class this project registers, such as lionpoc>Lion).")
        for flag in ("coordinatewise", "focus", "default_study"):
            if flag in value and not isinstance(value[flag], bool):
                raise LionpocError(f"{source}: `{flag}:` must be true or false, got {value[flag]!r}.")
        spec = cls(name=own, label=str(value.get("label") or own), colour=colour or _fallback_colour(own),
                   keras_class=str(value["class"]), arguments=dict(arguments), decay=decay,
                   coordinatewise=value.get("coordinatewise", True), reference=value.get("reference"),
                   fine_tune={"learning_rate_factors": [float(f) for f in factors]},
                   focus=value.get("focus", False), default_study=value.get("default_study", True),
                   update=update, implementation=implementation)
        spec.check_buildable(source)  # a class that does not exist or cannot train is the error to name first
        registered = ">" in spec.keras_class  # Keras names a registered class "package>Name"
        if implementation == "keras" and registered or implementation == "ours" and not registered:
            raise LionpocError(f"{source}: `implementation: {implementation}` does not match `class: {value['class']}`"
                               f": a class of keras.optimizers is Keras's (implementation: keras), a registered "
                               f"\"package>Name\" class is this project's (implementation: ours).")
        return spec

    def to_mapping(self) -> dict:
        """The ``optimizer:`` mapping (what papermill passes to the notebook, and what results record)."""
        return {"name": self.name, "label": self.label, "colour": self.colour, "class": self.keras_class,
                "arguments": dict(self.arguments), "decay": self.decay, "coordinatewise": self.coordinatewise,
                "reference": self.reference, "fine_tune": dict(self.fine_tune), "focus": self.focus,
                "default_study": self.default_study, "update": self.update, "implementation": self.implementation}

    # ------------------------------------------------------------------ the grid
    @property
    def axes(self) -> tuple[str, ...]:
        """The grid's axes: the learning rate, then the decay's axis when it has one."""
        second = DECAY_AXES[self.decay]
        return ("learning_rate",) if second is None else ("learning_rate", second)

    @property
    def decay_axis(self) -> str | None:
        return DECAY_AXES[self.decay]

    # ------------------------------------------------------------------ building
    def build(self, learning_rate, decay=0.0):
        """The Keras optimizer for one configuration (or several trained together as columns).

        ``learning_rate`` may be a float or a callable returning a tensor and ``decay`` a float or an
        array broadcast against the weights: per-column values are how ``grid.py`` trains a grid's
        configurations in one matrix (valid for coordinate-wise optimizers only). ``decay`` is passed
        as the optimizer's ``weight_decay`` when it is decoupled; an L2 penalty is the trainer's job.
        """
        import keras

        decays = bool(np.any(np.asarray(decay) != 0))
        if decays and self.decay != "decoupled":
            raise LionpocError(f"{self.label} has no decoupled weight decay ({self.decay}); "
                               "its second grid axis is handled by the trainer.")
        import lionpoc.model.lion  # noqa: F401  (registers our Lion with Keras)

        config = {**self.arguments, "learning_rate": learning_rate}
        if self.decay == "decoupled":
            config["weight_decay"] = decay if decays else 0.0
        cls = keras.saving.get_registered_object(self.keras_class) or getattr(keras.optimizers, self.keras_class)
        return cls(**config)

    def check_buildable(self, source: str = "parameters") -> None:
        """Fail with one sentence when the class is unknown, abstract, or refuses the arguments, checked with a
        cheap build and one training step on a small variable, which must stay finite (once per process for
        each class and arguments)."""
        import inspect

        import keras

        import lionpoc.model.lion  # noqa: F401

        cls = keras.saving.get_registered_object(self.keras_class) or getattr(keras.optimizers, self.keras_class, None)
        known = sorted(n for n in dir(keras.optimizers) if inspect.isclass(getattr(keras.optimizers, n))
                       and issubclass(getattr(keras.optimizers, n), keras.optimizers.Optimizer)
                       and n not in NOT_CHOICES)
        if self.keras_class in ABSTRACT:
            raise LionpocError(f"{source}: `class: {self.keras_class}` is Keras's base class of optimizers, which "
                               f"cannot train anything by itself; use one of {', '.join(known)}, or lionpoc>Lion.")
        if not (inspect.isclass(cls) and issubclass(cls, keras.optimizers.Optimizer)):
            raise LionpocError(f"{source}: unknown optimizer class {self.keras_class!r}; use one of keras.optimizers "
                               f"({', '.join(known)}) or a registered one such as lionpoc>Lion.")
        parameters = inspect.signature(cls.__init__).parameters
        if self.decay == "decoupled" and "weight_decay" not in parameters:
            raise LionpocError(f"{source}: {self.keras_class} takes no weight_decay argument, so its decay cannot be "
                               f"`decoupled`; use `decay: l2` or `decay: none`.")
        for key, value in self.arguments.items():
            default = parameters[key].default if key in parameters else None
            numeric = isinstance(default, (int, float)) and not isinstance(default, bool)
            if numeric and not (isinstance(value, (int, float)) and not isinstance(value, bool)):
                raise LionpocError(f"{source}: optimizer.arguments.{key} is {value!r}, but {self.keras_class}'s "
                                   f"{key} is a number (its default is {default!r}).")
        identity = (self.keras_class, repr(sorted(self.arguments.items())), self.decay)
        if identity in _STEPPED:
            return
        try:
            optimizer = self.build(1e-3, 0.01 if self.decay == "decoupled" else 0.0)
        except (TypeError, ValueError) as exc:
            raise LionpocError(f"{source}: {self.keras_class} refuses its arguments {self.arguments!r}: "
                               f"{_first_line(exc)}") from None
        try:
            weights = keras.Variable(np.ones((2, 3), "float32"))
            optimizer.apply([keras.ops.convert_to_tensor(np.full((2, 3), 0.5, "float32"))], [weights])
            stepped = np.asarray(weights)
        except Exception as exc:  # noqa: BLE001 - whatever Keras or TensorFlow raise, it is the arguments' fault
            raise LionpocError(f"{source}: {self.keras_class} with the arguments {self.arguments!r} cannot take a "
                               f"training step: {_first_line(exc)}") from None
        if not np.all(np.isfinite(stepped)):
            raise LionpocError(f"{source}: {self.keras_class} with the arguments {self.arguments!r} turns finite "
                               "weights and gradients into NaN or infinite values in one step (a beta of 1 or "
                               "more? an epsilon of 0?): every run would train to NaN; fix its `arguments:`.")
        _STEPPED.add(identity)


def make_optimizer(spec: OptimizerSpec, learning_rate, decay=0.0):
    """Build ``spec``'s Keras optimizer (see ``OptimizerSpec.build``)."""
    return spec.build(learning_rate, decay)


def state_bytes(optimizer, variables) -> dict:
    """Bytes of state the optimizer keeps for ``variables``, measured on its own built variables.

    Returns the bytes of the per-weight slots (momentum, velocity, ...), the bytes of the weights
    themselves, and the number of slots per weight.
    """
    optimizer.build(variables)
    weight_bytes = sum(int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize for v in variables)
    own = [v for v in optimizer.variables if len(v.shape) > 0]  # scalars are counters and the lr
    slot_bytes = sum(int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize for v in own)
    return {"weights_bytes": weight_bytes, "state_bytes": slot_bytes,
            "slots_per_weight": slot_bytes / weight_bytes if weight_bytes else 0.0}


# ---------------------------------------------------------------------------------- the registry
params_dir = project.params_dir


def available(root: Path | None = None) -> list[str]:
    """Names of the optimizers that have a parameter file, sorted."""
    folder = params_dir(root)
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def load(name: str, root: Path | None = None) -> OptimizerSpec:
    """The spec of ``name`` from ``analysis/params/<name>.yaml``."""
    path = params_dir(root) / f"{name}.yaml"
    if not path.exists():
        raise LionpocError(f"unknown optimizer {name!r}: there is no {path}; known optimizers: "
                           f"{', '.join(available(root)) or 'none'} (adding one = adding its parameter file).")
    spec = OptimizerSpec.from_mapping(project.read_param_file(path).get("optimizer"), name, str(path))
    check_reference(spec, root or params_dir(root).parents[1], str(path))
    return spec


def registry(root: Path | None = None) -> dict[str, OptimizerSpec]:
    """Every optimizer with a parameter file, by name."""
    return {name: load(name, root) for name in available(root)}


def default_study(root: Path | None = None) -> list[str]:
    """The optimizers of `lionpoc study` without --optimizers: the focus first's rivals, then the focus last."""
    specs = [s for s in registry(root).values() if s.default_study]
    return [s.name for s in sorted(specs, key=lambda s: (s.focus, s.name))]


def default_focus(names: list[str], root: Path | None = None) -> str:
    """The optimizer the question is about: the one whose file says ``focus: true``, else the last named."""
    focused = [n for n in names if load(n, root).focus]
    return focused[0] if focused else names[-1]


def _fallback_colour(name: str) -> str:
    return FALLBACK_COLOURS[sum(map(ord, name)) % len(FALLBACK_COLOURS)]


def _no_text_number(value: Any, key: str, source: str) -> None:
    """YAML 1.1 reads ``1e-3`` as text: refuse it with the way to write it."""
    if isinstance(value, str) and _looks_numeric(value):
        raise LionpocError(f"{source}: {key} is {value!r}, which YAML reads as text, not a number; write it with a "
                           f"decimal point and a signed exponent, e.g. {_yaml_number(value)}.")


def _finite(value: Any, key: str, source: str) -> None:
    """A number that enters a study (here, an optimizer's fixed argument) is finite: ``.nan`` or ``.inf``
    would train every configuration to NaN and leave no sign of it but a test accuracy at chance."""
    if isinstance(value, float) and not math.isfinite(value):
        raise LionpocError(f"{source}: {key} is {value}, which is not a finite number; write the value itself.")
    if isinstance(value, (list, tuple)):
        for item in value:
            _finite(item, key, source)
    if isinstance(value, Mapping):
        for name, item in value.items():
            _finite(item, f"{key}.{name}", source)


def _first_line(exc: BaseException) -> str:
    """An exception's first line, without TensorFlow's ``{{function_node ...}}`` prefix."""
    lines = [line for line in str(exc).splitlines() if line.strip()]
    text = re.sub(r"\{\{[^}]*\}\}\s*", "", lines[0]) if lines else ""
    return (text.strip() or type(exc).__name__)[:200]


def check_reference(spec: OptimizerSpec, root: Path, source: str) -> None:
    """The optimizer's ``reference:`` is a key of ``report/references.bib``, else the report would print a
    citation to nothing."""
    bib = Path(root) / "report" / "references.bib"
    if spec.reference is None or not bib.is_file():
        return
    keys = re.findall(r"^\s*@\w+\s*\{\s*([^,\s]+)\s*,", bib.read_text(encoding="utf-8", errors="replace"), re.MULTILINE)
    if spec.reference not in keys:
        raise LionpocError(f"{source}: `reference: {spec.reference}` is not a key of {bib} (whose keys are "
                           f"{', '.join(sorted(keys))}): add its BibTeX entry there, or correct the key.")


def _looks_numeric(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _yaml_number(text: str) -> str:
    mantissa, _, exponent = text.lower().partition("e")
    if not exponent:
        return text
    mantissa = mantissa if "." in mantissa else mantissa + ".0"
    return f"{mantissa}e{'' if exponent[0] in '+-' else '+'}{exponent}"
