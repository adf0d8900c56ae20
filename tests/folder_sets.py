"""Synthetic image-folder data sets for the tests: any class names, any counts, either layout.

Each class is a colour (hues spread around the circle, alternating light and dark) with a stripe pattern of
its own, on noisy grey: learnable even from a random backbone's features, and no two images alike.
"""
from __future__ import annotations

import colorsys
from pathlib import Path

import numpy as np
from PIL import Image


def draw(label: int, n_classes: int, size: int, rng: np.random.Generator) -> Image.Image:
    pixels = rng.normal(128, 24, (size, size, 3))
    hue = (label * 0.618034) % 1.0
    colour = np.array(colorsys.hsv_to_rgb(hue, 0.85, 0.95 if label % 2 else 0.6)) * 255
    half = size // 2
    top, left = rng.integers(0, size - half, 2)
    pixels[top:top + half, left:left + half] = colour + rng.normal(0, 10, (half, half, 3))
    period = 2 + label % 5
    pixels[::period, :, :] *= 0.75
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def make(root: Path, classes: dict[str, int] | list[str], per_class: int = 12, size: int = 32, seed: int = 0,
         parts: dict[str, float] | None = None, suffix: str = ".jpg") -> Path:
    """Write ``root/<class>/<i>.jpg`` (or, with ``parts`` such as ``{"train": 0.7, "val": 0.15, "test": 0.15}``,
    ``root/<part>/<class>/``): ``classes`` maps each class folder to its number of images (a list gives
    ``per_class`` to each). Deterministic for a seed; returns ``root``."""
    counts = classes if isinstance(classes, dict) else {name: per_class for name in classes}
    rng = np.random.default_rng(seed)
    for label, (name, count) in enumerate(counts.items()):
        places = [("", count)] if not parts else _shares(parts, count)
        number = 0
        for place, n in places:
            folder = Path(root) / place / name if place else Path(root) / name
            folder.mkdir(parents=True, exist_ok=True)
            for _ in range(n):
                draw(label, len(counts), size, rng).save(folder / f"img_{number:04d}{suffix}", quality=92)
                number += 1
    return Path(root)


def _shares(parts: dict[str, float], count: int) -> list[tuple[str, int]]:
    names = list(parts)
    sizes = [max(1, int(round(parts[n] * count))) for n in names[1:]]
    return [(names[0], count - sum(sizes)), *zip(names[1:], sizes)]
