"""The optional description file of a data folder, ``dataset.yaml``: the data set's name, its classes'
display names, a paragraph for the report and a reference.

```yaml
name: Feuilles de nos arbres          # the report's title names the data set so
classes:                              # class folder: the name the report shows (any subset of the folders)
  erable_champetre: Érable champêtre
  chene_vert: Chêne vert
description: >                        # a paragraph for the report's data section (French, like the report)
  Photographies de feuilles prises au jardin botanique, une feuille par image, sur fond clair.
reference: "M. Dupont, Feuilles de nos arbres, 2024, https://example.org/feuilles"
```

Every key is optional; an unknown key, a class that has no folder or two classes shown under one name are
refused in one sentence (a typo must not go unnoticed into a published report).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

from lionpoc.data import datasets
from lionpoc.errors import LionpocError

FILE_NAMES = ("dataset.yaml", "dataset.yml")
KEYS = ("name", "classes", "description", "reference")


def find(data_dir: Path) -> Path | None:
    """The description file of ``data_dir``, if it has one."""
    return next((data_dir / name for name in FILE_NAMES if (data_dir / name).is_file()), None)


def read(path: Path) -> dict:
    """The file's mapping, checked: known keys, text values, ``classes`` a mapping of text to text."""
    try:
        found = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise LionpocError(f"the description file {path} cannot be read ({exc}).") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise LionpocError(f"the description file {path} is not valid YAML{line}: fix it, or remove it to name "
                           "the classes after their folders.") from None
    if found is None:
        return {}
    if not isinstance(found, dict):
        raise LionpocError(f"the description file {path} must hold a mapping with the keys {', '.join(KEYS)}.")
    unknown = sorted(str(k) for k in found if k not in KEYS)
    if unknown:
        raise LionpocError(f"the description file {path} has unknown key(s) {', '.join(unknown)}; "
                           f"the keys are: {', '.join(KEYS)}.")
    for key in ("name", "description", "reference"):
        value = found.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise LionpocError(f"the description file {path}: {key} must be a non-empty text, got {value!r}.")
    classes = found.get("classes")
    if classes is not None and (not isinstance(classes, dict)
                                or not all(isinstance(v, str) and v.strip() for v in classes.values())):
        raise LionpocError(f"the description file {path}: classes must map each class folder to the name shown "
                           f"(e.g. `chene_vert: Chêne vert`), got {classes!r}.")
    return found


def apply(dataset: datasets.DataSet, path: Path | None) -> datasets.DataSet:
    """``dataset`` with the name, display names, paragraph and reference of the description file at ``path``."""
    if path is None:
        return dataset
    found = read(path)
    shown = list(dataset.display)
    by_key = {datasets.name_key(f): i for i, f in enumerate(dataset.folders)}
    for folder, name in (found.get("classes") or {}).items():
        index = by_key.get(datasets.name_key(str(folder)))
        if index is None:
            raise LionpocError(f"the description file {path} names a class {folder!r} that has no folder; the class "
                               f"folders are: {', '.join(dataset.folders)}.")
        shown[index] = " ".join(name.split())
    twice = sorted({name for name in shown if shown.count(name) > 1})
    if twice:
        raise LionpocError(f"the description file {path} shows two classes under one name ({', '.join(twice)}): "
                           "give each class a name of its own.")
    return dataclasses.replace(
        dataset, name=" ".join(found["name"].split()) if found.get("name") else dataset.name, display=tuple(shown),
        description=" ".join(found["description"].split()) if found.get("description") else None,
        reference=found.get("reference", "").strip() or None, described_by=str(path))
