"""What each optimizer costs: the state it keeps (memory) and the time it takes to reach a common target.

- State: ``memory.csv`` (``model.memory``), bytes of per-weight slots each optimizer keeps, measured on its
  own built variables for the head and for the whole backbone; Lion keeps one slot per weight (momentum),
  Adam and AdamW two. It does not depend on the implementation's speed.
- Time to a common target: per run, the epochs until validation accuracy first reaches 95 % (99 %) of the
  best validation accuracy any optimizer reached in that seed (``aggregate.time_to_accuracy``), times the
  optimizer's per-epoch time measured alone (``timing.csv``: its chosen head, interleaved rounds, the
  median); runs that never reach it are counted, not averaged.
- Per-epoch time with its spread (the rounds' range) and whether that range overlaps the focus's: only
  when it does not can a per-epoch difference be stated.
"""
from __future__ import annotations

import math

import pandas as pd

COLUMNS = ["optimizer", "state_bytes_head", "slots_per_weight", "weights_bytes_head", "backbone",
           "state_bytes_backbone", "seconds_per_epoch_median", "seconds_per_epoch_low", "seconds_per_epoch_high",
           "timing_rounds", "epoch_time_overlaps_focus", "n_seeds", "target", "epochs_to_target_mean",
           "epochs_to_target_sd", "reached", "seconds_to_target_mean", "seconds_to_target_sd"]


def table(per_run: pd.DataFrame, memory: pd.DataFrame | None = None, timing: pd.DataFrame | None = None,
          focus: str | None = None, targets=(95, 99)) -> pd.DataFrame:
    """One row per optimizer and target (``COLUMNS``). ``per_run`` is ``aggregate.time_to_accuracy_runs``;
    ``memory`` and ``timing`` the study's ``memory.csv`` and ``timing.csv`` (either may be absent: NaN)."""
    memory = memory if memory is not None else pd.DataFrame()
    timing = timing if timing is not None else pd.DataFrame()
    spreads = {}
    if not timing.empty and {"optimizer", "seconds_per_epoch"} <= set(timing.columns):
        for name, group in timing.groupby("optimizer", sort=False):
            x = group["seconds_per_epoch"]
            spreads[name] = (float(x.median()), float(x.min()), float(x.max()), len(x))
    rows = []
    for name, group in per_run.groupby("optimizer", sort=False):
        head = _memory_row(memory, name, "head")
        backbone = _memory_row(memory, name, None)
        median, low, high, rounds = spreads.get(name, (math.nan, math.nan, math.nan, 0))
        overlaps = math.nan
        if focus in spreads and name != focus and name in spreads:
            overlaps = bool(low <= spreads[focus][2] and spreads[focus][1] <= high)
        for tag in targets:
            epochs = group[f"epochs_to_{tag}"]
            seconds = epochs * median
            rows.append({"optimizer": name, "state_bytes_head": head.get("state_bytes", math.nan),
                         "slots_per_weight": head.get("slots_per_weight", math.nan),
                         "weights_bytes_head": head.get("weights_bytes", math.nan),
                         "backbone": backbone.get("model", ""), "state_bytes_backbone": backbone.get("state_bytes", math.nan),
                         "seconds_per_epoch_median": median, "seconds_per_epoch_low": low,
                         "seconds_per_epoch_high": high, "timing_rounds": rounds, "epoch_time_overlaps_focus": overlaps,
                         "n_seeds": len(group), "target": tag / 100, "epochs_to_target_mean": float(epochs.mean()),
                         "epochs_to_target_sd": float(epochs.std(ddof=1)) if epochs.notna().sum() > 1 else math.nan,
                         "reached": int(group[f"reached_{tag}"].sum()),
                         "seconds_to_target_mean": float(seconds.mean()),
                         "seconds_to_target_sd": float(seconds.std(ddof=1)) if seconds.notna().sum() > 1 else math.nan})
    return pd.DataFrame(rows, columns=COLUMNS)


def _memory_row(memory: pd.DataFrame, optimizer: str, model: str | None) -> dict:
    """The optimizer's row of ``memory.csv`` for ``model`` (None: the first model that is not the head)."""
    if memory.empty or "optimizer" not in memory.columns:
        return {}
    rows = memory[memory["optimizer"] == optimizer]
    rows = rows[rows["model"] == model] if model else rows[rows["model"] != "head"]
    return rows.iloc[0].to_dict() if len(rows) else {}
