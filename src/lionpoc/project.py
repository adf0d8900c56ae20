"""The project itself: where its checkout is and how its parameter files read.

A bottom module (it imports nothing of ``lionpoc`` but its error type), so that the optimizer registry
(``model``), the study and the report can all find ``analysis/params/`` without one layer reaching up into
another.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from lionpoc.errors import LionpocError

# src/lionpoc/project.py -> the checkout this package was installed from in editable mode.
CHECKOUT = Path(__file__).resolve().parent.parent.parent


def project_root(start: str | Path | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: the working directory) holding ``_quarto.yml``,
    else the source checkout this package was installed from in editable mode."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_quarto.yml").is_file() and (folder / "analysis").is_dir():
            return folder
    if (CHECKOUT / "_quarto.yml").is_file():
        return CHECKOUT
    raise LionpocError("cannot find the lionpoc project (a folder with _quarto.yml and analysis/): "
                       "run the command from inside the project.")


def report_dir(start: str | Path | None = None) -> Path:
    """``report/``, the report's sources: those of the nearest folder at or above ``start`` (default: the working
    directory) that holds ``_quarto.yml`` and ``report/index.qmd`` (the private copy ``lionpoc render`` renders,
    whose kernel runs in its ``report/``), else the project's (``project_root``)."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_quarto.yml").is_file() and (folder / "report" / "index.qmd").is_file():
            return folder / "report"
    return project_root(start) / "report"


def params_dir(root: Path | None = None) -> Path:
    """``analysis/params/``: one parameter file per optimizer."""
    return (root or project_root()) / "analysis" / "params"


def read_param_file(path: str | Path) -> dict:
    """Load a YAML parameter file as a mapping, with a clear error when it is not one."""
    path = Path(path)
    if path.is_dir():
        raise LionpocError(f"parameter file {path} is a folder, not a YAML file.")
    if not path.is_file():
        raise LionpocError(f"parameter file {path} does not exist.")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise LionpocError(f"parameter file {path} is not valid YAML: {exc}") from None
    except UnicodeDecodeError as exc:  # a binary file, or another encoding than UTF-8
        raise LionpocError(f"parameter file {path} is not UTF-8 text (byte {exc.start}): save it as UTF-8 YAML.") \
            from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise LionpocError(f"parameter file {path} must hold a mapping of parameter names to values.")
    return data
