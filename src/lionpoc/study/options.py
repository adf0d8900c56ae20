"""The options of one study, as one object: what `lionpoc study` was asked and what ``run_study(**options)``
is given. ``pipeline.plan`` reads and validates them against the parameter files; nothing is forwarded by
position."""
from __future__ import annotations

import argparse
from dataclasses import dataclass, fields
from pathlib import Path


@dataclass(frozen=True)
class StudyOptions:
    optimizers: tuple[str, ...] | None = None  # None: the parameter files that say default_study
    seeds: int | None = None                   # None: the default (1 with smoke)
    smoke: bool = False
    data_dir: Path | None = None
    results_dir: Path | None = None
    weights: str | None = None                 # imagenet, none or a file; None: the parameter files'
    image_size: int | None = None
    split: str = "random"
    force: bool = False
    render: bool = True
    cache_dir: Path | None = None
    jobs: int | None = None
    fine_tune: bool = False
    fine_tune_epochs: int | None = None
    fine_tune_seeds: int | None = None         # None: the parameter files' (3 unless they say otherwise)
    focus: str | None = None
    backbone: str | None = None
    extend_grid: bool = True
    sensitivity: bool = False
    cluster: str | None = None                 # local:N or a scheduler address
    scheduler_file: Path | None = None

    def __post_init__(self):
        if self.optimizers is not None and not isinstance(self.optimizers, tuple):
            object.__setattr__(self, "optimizers", tuple(self.optimizers))

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> "StudyOptions":
        """The options of `lionpoc study` as argparse parsed them (``--no-render`` is ``render=False``)."""
        given = vars(args)
        values = {f.name: given[f.name] for f in fields(cls) if f.name in given}
        values["render"] = not given.get("no_render", False)
        return cls(**values)
