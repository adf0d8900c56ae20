"""Grids that bracket the optimum: an axis whose chosen value sits on the grid's edge is extended.

A choice on the edge of a grid says only that the optimum may lie beyond it: the optimizer may have
been handicapped by its grid rather than by its nature. So, after a seed's grid has been trained and
a configuration chosen on the validation split, every axis whose chosen value is its smallest or
largest value gets one more value in that direction, one grid step away (the grid's own ratio: the
axes are geometric), and only the new configurations are trained. This repeats until every choice is
interior or an axis has been extended ``max_extensions`` times; a choice still on an edge then is
recorded as such. Every optimizer is treated by the same rule.

Rules at the ends of an axis:
- an axis with a single value is fixed: there is nothing to bracket;
- a value 0 (no decay at all) is a bound: a choice of 0 is an answer, not an edge, and nothing lies
  below it;
- the step is the geometric mean ratio of the axis's positive values (for ``[3e-4, 1e-3, 3e-3]``,
  sqrt(10)); an axis with fewer than two positive values has no ratio and cannot be extended.

The configurations of a grid train independently (``grid.py``: nothing couples the heads but the
shared shuffle and dropout masks, which depend on the seed only), so a configuration trained in a
later round has exactly the numbers it would have had in the first one. Only training and
validation data enter here: the test split cannot influence the choice.

An axis is *inert* when, for every value of the other axes, all its values give the same validation
result: the same validation accuracy, the same best epoch, and validation losses within
``INERT_LOSS_TOLERANCE`` of each other. The report names such axes: a grid spent on them buys nothing.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

MAX_EXTENSIONS = 2          # per axis and direction-independent: two grid steps beyond the first grid at most
INERT_LOSS_TOLERANCE = 0.01  # relative spread of validation losses below which an axis "changes nothing"
SIGNIFICANT_DIGITS = 3      # extended values are rounded (9.49e-05, not 9.486832980505138e-05)

# Status of an axis after the search (``Bracketing.status``).
INTERIOR, EDGE, ZERO, FIXED = "interior", "edge", "zero", "fixed"


@dataclass
class Bracketing:
    """What the search did: the first and final values of each axis, the extensions, the choice's place."""

    initial: dict                       # axis -> values of the configured grid
    values: dict                        # axis -> values finally trained (sorted)
    chosen: dict                        # axis -> chosen value
    extensions: dict = field(default_factory=dict)   # axis -> how many values were added
    status: dict = field(default_factory=dict)       # axis -> interior | edge | zero | fixed
    inert: dict = field(default_factory=dict)        # axis -> True when all its values gave the same result
    configurations: int = 0
    extend: bool = True

    @property
    def stayed_on_edge(self) -> bool:
        return any(s == EDGE for s in self.status.values())

    def metrics(self) -> dict:
        """Flat ``metrics.json`` entries: counts, per-axis extensions, status and inertness."""
        out = {"extend_grid": self.extend, "configurations_tried": self.configurations,
               "initial_grid_size": int(np.prod([len(v) for v in self.initial.values()])),
               "extensions": int(sum(self.extensions.values())), "stayed_on_edge": self.stayed_on_edge,
               "edge_axes": ",".join(a for a, s in self.status.items() if s == EDGE),
               "inert_axes": ",".join(a for a, i in self.inert.items() if i)}
        for axis in self.initial:
            out[f"extensions_{axis}"] = int(self.extensions.get(axis, 0))
            out[f"status_{axis}"] = self.status.get(axis, FIXED)
            out[f"inert_{axis}"] = bool(self.inert.get(axis, False))
        return out


def step_ratio(values) -> float | None:
    """The axis's geometric step: the mean ratio of consecutive positive values (None without two)."""
    positive = sorted(v for v in values if v > 0)
    if len(positive) < 2 or positive[-1] == positive[0]:
        return None
    return (positive[-1] / positive[0]) ** (1 / (len(positive) - 1))


def rounded(value: float) -> float:
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def next_value(values, direction: int, ratio: float | None) -> float | None:
    """One grid step below (``direction=-1``) or above (``+1``) the axis; None when there is no step."""
    if ratio is None:
        return None
    low, high = min(values), max(values)
    if direction < 0:
        return None if low <= 0 else rounded(low / ratio)
    return rounded(high * ratio) if high > 0 else None


def place(values, chosen: float) -> int:
    """-1 when ``chosen`` is the axis's smallest value, +1 its largest, 0 interior (or a single value)."""
    if len(values) < 2:
        return 0
    return -1 if chosen == min(values) else (1 if chosen == max(values) else 0)


def points(values: dict) -> list[dict]:
    """The full product of the axes, in a fixed order (first axis slowest), as configurations."""
    axes = list(values)
    return [dict(zip(axes, combo)) for combo in itertools.product(*(values[a] for a in axes))]


def key(point: dict, axes) -> tuple:
    return tuple(float(point[a]) for a in axes)


def inert_axes(table: pd.DataFrame, axes, tolerance: float = INERT_LOSS_TOLERANCE) -> dict:
    """Per axis with at least two values: True when, for each value of the other axes, every value of
    this one gives the same validation accuracy and best epoch, and losses within ``tolerance``."""
    out = {}
    for axis in axes:
        if table[axis].nunique() < 2:
            continue
        others = [a for a in axes if a != axis]
        groups = table.groupby(others) if others else [((), table)]
        same = True
        for _, group in groups:
            loss = group["val_loss"].to_numpy(float)
            same &= bool(np.ptp(np.round(group["val_accuracy"].to_numpy(float), 9)) == 0
                         and group["best_epoch"].nunique() == 1
                         and np.ptp(loss) <= tolerance * max(float(np.min(np.abs(loss))), 1e-12))
        out[axis] = same
    return out


def search(grid: dict, train, choose, *, extend: bool = True, max_extensions: int = MAX_EXTENSIONS,
           log=print) -> tuple[pd.DataFrame, dict, Bracketing]:
    """Train ``grid`` (axis -> values), choose on validation, extend edge axes, repeat.

    ``train(points)`` trains a list of configurations and returns, for each, a tuple
    ``(row, result)``: ``row`` a dict with at least ``val_accuracy``, ``val_loss`` and ``best_epoch``,
    ``result`` anything the caller needs back for the chosen one. ``choose(table)`` returns the
    position of the chosen row of a table of rows. Returns the table of every configuration tried
    (with its ``round``: 0 for the first grid, k for the k-th extension; ``chosen`` marked), the
    chosen configuration's ``result`` and the ``Bracketing``.
    """
    axes = list(grid)
    values = {a: sorted(float(v) for v in grid[a]) for a in axes}
    ratios = {a: step_ratio(values[a]) for a in axes}
    extensions = {a: 0 for a in axes}
    done: dict[tuple, tuple[dict, object]] = {}
    rounds: dict[tuple, int] = {}
    round_ = 0
    while True:
        todo = [p for p in points(values) if key(p, axes) not in done]
        if todo:
            for p, (row, result) in zip(todo, train(todo)):
                done[key(p, axes)] = ({**p, **row}, result)
                rounds[key(p, axes)] = round_
        current = [key(p, axes) for p in points(values)]
        table = pd.DataFrame([done[k][0] for k in current])
        best = current[choose(table)]
        chosen = dict(zip(axes, best))
        grown = []
        if extend:
            for a in axes:
                direction = place(values[a], chosen[a])
                new = next_value(values[a], direction, ratios[a]) if direction else None
                if new is not None and extensions[a] < max_extensions:
                    values[a] = sorted(values[a] + [new])
                    extensions[a] += 1
                    grown.append(f"{a} {'down' if direction < 0 else 'up'} to {new:g}")
        if not grown:
            break
        round_ += 1
        log(f"grid: the choice {', '.join(f'{a}={chosen[a]:g}' for a in axes)} is on an edge; "
            f"extension {round_}: {'; '.join(grown)}")
    status = {}
    for a in axes:
        where = place(values[a], chosen[a])
        status[a] = (FIXED if len(values[a]) < 2 else ZERO if where < 0 and chosen[a] == 0
                     else EDGE if where else INTERIOR)
    tried = sorted(done, key=lambda k: (rounds[k], k))
    table = pd.DataFrame([{**done[k][0], "round": rounds[k]} for k in tried])
    table["chosen"] = [k == best for k in tried]
    record = Bracketing({a: sorted(float(v) for v in grid[a]) for a in axes}, values, chosen, extensions, status,
                        inert_axes(table, axes), len(done), extend)  # every point tried is in the final product
    return table, done[best][1], record


def describe(record: Bracketing) -> str:
    """One log line: configurations tried, extensions, where the choice stands."""
    parts = [f"{record.configurations} configuration(s) tried"]
    grown = [f"{a} x{n}" for a, n in record.extensions.items() if n]
    parts.append(f"extended {', '.join(grown)}" if grown else "no extension")
    edge = [a for a, s in record.status.items() if s == EDGE]
    if edge:
        parts.append(f"choice still on the edge of {', '.join(edge)}")
    inert = [a for a, i in record.inert.items() if i]
    if inert:
        parts.append(f"inert: {', '.join(inert)}")
    return "; ".join(parts)
