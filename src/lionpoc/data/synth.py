"""A small synthetic data set in the Stanford Dogs layout, for tests and the smoke study.

Each of the 15 "breeds" is a coloured shape (15 hues, 5 shapes) drawn at a random place and
size on a noisy grey background, so the classes are learnable even by a network with random
weights, yet no two images are alike.
"""
from __future__ import annotations

import colorsys
import os
import re
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from lionpoc.data import breeds
from lionpoc.data.images import SYNTHETIC_MARKER
from lionpoc.errors import LionpocError
from lionpoc.files import atomic_write_text

SHAPES = ("disc", "square", "triangle", "cross", "ring")


def make_synthetic(out: str | Path, per_class: int = 40, size: int = 96, seed: int = 0) -> Path:
    """Write ``per_class`` JPEGs for each of the 15 breed folders under ``out``; return ``out``.

    Deterministic for a given seed. ``out`` is new, empty, or holds an earlier output of this function, which
    the new set replaces whole (made in a sibling folder and renamed into place: never a mix of two sets, nor
    half a set); a folder holding anything else (photos, other files) is refused, so a data folder is never
    mixed with synthetic images.
    """
    import shutil
    import tempfile

    if per_class < 1 or size < 16:
        raise LionpocError(f"per_class must be >= 1 and size >= 16, got {per_class} and {size}.")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise LionpocError(f"{out} is a file, not a folder: pass --out with a folder (new or existing).")
    foreign = foreign_files(out)
    if foreign:
        raise LionpocError(f"{out} already holds {len(foreign)} file(s) that `lionpoc synth` did not write (e.g. "
                           f"{foreign[0]}): synthetic images are never mixed into another data folder; pass --out "
                           "a new or empty folder.")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    except OSError as exc:
        raise LionpocError(f"cannot write the synthetic images in {out} ({exc.strerror or exc}); "
                           "pass --out with a folder you can write to.") from None
    try:
        _write(staging, per_class, size, seed)
        if out.is_dir() and any(out.iterdir()):  # an earlier set: replaced whole
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.replace(out, old / out.name)
            os.rename(staging, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, out)  # onto an empty folder too
    except OSError as exc:
        raise LionpocError(f"cannot write the synthetic images in {out} ({exc.strerror or exc}); "
                           "pass --out with a folder you can write to.") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


def foreign_files(out: Path) -> list[str]:
    """What ``out`` holds besides an earlier output of ``make_synthetic`` (its marker, then its breed folders of
    ``<wnid>_<nnnnn>.jpg``), as paths relative to ``out``: its files, or its folders when it has none. Without the marker, everything is
    foreign: real photos have the same kind of names."""
    if not out.is_dir():
        return []
    marked = (out / SYNTHETIC_MARKER).is_file()
    own = {folder: re.compile(rf"{re.escape(breeds.wnid(folder))}_\d{{5}}\.jpg") for folder in breeds.FOLDERS}
    found = []
    for path in sorted(out.rglob("*")):
        parts = path.relative_to(out).parts
        mine = marked and (parts == (SYNTHETIC_MARKER,)
                           or (parts[0] in own and path.is_dir() and len(parts) == 1)
                           or (parts[0] in own and path.is_file() and len(parts) == 2
                               and own[parts[0]].fullmatch(parts[1]) is not None))
        if not mine:
            found.append("/".join(parts) + ("/" if path.is_dir() else ""))
    return [f for f in found if not f.endswith("/")] or found  # the files; else the folders that are not synth's


def _write(out: Path, per_class: int, size: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for label, folder in enumerate(breeds.FOLDERS):
        target = out / folder
        target.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            image = _draw(label, size, rng)
            image.save(target / f"{breeds.wnid(folder)}_{i:05d}.jpg", quality=90)
    atomic_write_text(out / SYNTHETIC_MARKER,
                      f"Synthetic images made by `lionpoc synth` (seed {seed}, {per_class} per class, "
                      f"{size} px). Not photographs of dogs.\n")


def make_synthetic_once(out: str | Path, per_class: int = 40, size: int = 96, seed: int = 0) -> Path:
    """The synthetic set at ``out``, made whole in a private sibling folder and renamed into place.

    Two studies started at once in one checkout both find it absent: each makes its own, the first rename
    wins and the other's copy (the same images: same seed) is dropped. A folder left without its marker by
    an older, interrupted write is replaced.
    """
    import shutil
    import tempfile

    out = Path(out)
    if (out / SYNTHETIC_MARKER).is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        make_synthetic(staging, per_class, size, seed)
        try:
            os.rename(staging, out)
        except OSError:
            if not (out / SYNTHETIC_MARKER).is_file():  # an incomplete set from an interrupted write
                stale = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
                os.replace(out, stale / out.name)
                os.rename(staging, out)
                shutil.rmtree(stale, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


def _draw(label: int, size: int, rng: np.random.Generator) -> Image.Image:
    grey = rng.uniform(60, 190)
    pixels = rng.normal(grey, 25, (size, size, 3)).clip(0, 255).astype(np.uint8)
    image = Image.fromarray(pixels)
    draw = ImageDraw.Draw(image)
    hue = label / len(breeds.FOLDERS)
    colour = tuple(int(255 * c) for c in colorsys.hsv_to_rgb(hue, rng.uniform(0.7, 1.0), rng.uniform(0.75, 1.0)))
    radius = rng.uniform(0.22, 0.38) * size
    cx, cy = rng.uniform(radius, size - radius, 2)
    box = (cx - radius, cy - radius, cx + radius, cy + radius)
    shape = SHAPES[label % len(SHAPES)]
    if shape == "disc":
        draw.ellipse(box, fill=colour)
    elif shape == "square":
        draw.rectangle(box, fill=colour)
    elif shape == "triangle":
        draw.polygon([(cx, cy - radius), (cx - radius, cy + radius), (cx + radius, cy + radius)], fill=colour)
    elif shape == "cross":
        w = radius / 3
        draw.rectangle((cx - w, cy - radius, cx + w, cy + radius), fill=colour)
        draw.rectangle((cx - radius, cy - w, cx + radius, cy + w), fill=colour)
    else:
        draw.ellipse(box, outline=colour, width=max(2, int(radius / 3)))
    return image
