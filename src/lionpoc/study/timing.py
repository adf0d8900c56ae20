"""Each optimizer's chosen head timed alone: interleaved, repeated, with its spread.

The study's own epoch times are shares of a joint epoch of the whole grid, measured while several
notebooks shared the cores; they cannot carry a claim that one optimizer is faster. Here each
optimizer's chosen configuration (the one most seeds chose) trains alone, one optimizer after the
other in a rotating order, ``REPEATS`` rounds, on the study's cached features: a machine that slows
down for a while slows every optimizer alike, and the spread of the repeats says how far two medians
must be apart before a difference means anything (the report's rule, ``report.prose.faster``).
"""
from __future__ import annotations

import time

import pandas as pd

from lionpoc.model.grid import GridTrainer, standardisation, standardise

REPEATS = 7       # rounds; every optimizer is timed once per round
EPOCHS = 3        # epochs per timing (one sample is their mean)


def chosen(runs: pd.DataFrame, name: str, axes) -> dict:
    """The configuration most seeds of ``name`` chose (ties: the first seed's)."""
    group = runs[runs["optimizer"] == name]
    keys = [key for key in axes if key in group.columns]
    counts = group.groupby(keys, sort=False).size()
    values = counts.idxmax() if len(counts) else tuple(group[keys].iloc[0])
    return dict(zip(keys, values if isinstance(values, tuple) else (values,)))


def measure(configs, prep, runs: pd.DataFrame, repeats: int = REPEATS, epochs: int = EPOCHS,
            log=print) -> pd.DataFrame:
    """One row per (round, optimizer): seconds per epoch of its chosen head trained alone, rounds
    interleaved (optimizer order rotated each round), after one untimed warm-up each (compilation)."""
    x_train, y_train, _ = prep.part("train")
    x_val, y_val, _ = prep.part("val")
    mean, variance = standardisation(x_train)
    x_train, x_val = standardise(x_train, mean, variance), standardise(x_val, mean, variance)
    trainers = {}
    for cfg in configs:
        if cfg.optimizer not in set(runs.get("optimizer", ())):
            continue
        point = chosen(runs, cfg.optimizer, cfg.grid.keys())
        trainers[cfg.optimizer] = (point, GridTrainer(cfg.spec, [point], x_train.shape[1], prep.dataset.n_classes,
                                                      n_train=len(x_train), batch_size=cfg.batch_size,
                                                      dropout=cfg.dropout))
    # Warm-up outside the timings, with the timed calls' own arguments: one untimed epoch left the first
    # timed round near twice the others (50 ms against 25-30 ms), which widened the spread the report
    # compares medians against.
    for _, trainer in trainers.values():
        trainer.train(x_train, y_train, x_val, y_val, epochs=epochs, patience=epochs + 1, seed=0)
    names, rows = list(trainers), []
    for repeat in range(repeats):
        for name in names[repeat % len(names):] + names[:repeat % len(names)] if names else []:
            point, trainer = trainers[name]
            start = time.perf_counter()
            trainer.train(x_train, y_train, x_val, y_val, epochs=epochs, patience=epochs + 1, seed=repeat)
            rows.append({"optimizer": name, "repeat": repeat, "order": len([r for r in rows if r["repeat"] == repeat]),
                         "seconds_per_epoch": (time.perf_counter() - start) / epochs, "epochs": epochs,
                         **{f"config_{k}": v for k, v in point.items()}})
    table = pd.DataFrame(rows)
    if not table.empty:
        medians = table.groupby("optimizer", sort=False)["seconds_per_epoch"].median()
        log("timing: chosen heads alone, " + ", ".join(f"{n} {1000 * v:.1f} ms" for n, v in medians.items())
            + f" per epoch (median of {repeats} interleaved rounds)")
    return table
