"""Is the study as fast per image with 40 or 100 classes as with the 15 breeds? Ratios measured in one run.

The per-class work of a study is its heads' training (the backbone's pass costs the same per image whatever the
classes): this times an epoch of a grid of 9 configurations trained together, as the study trains them, on the same
2,602 feature vectors (the 15 breeds' training split) labelled with 15, 40 or 100 classes, rounds interleaved, and
prints each time per training image and its ratio to 15 classes.

    python tests/bench_classes.py [--width 1280] [--rounds 5]
"""
from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=1280, help="feature width (MobileNetV2 1280, Xception 2048)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()

    from lionpoc.model.grid import GridTrainer
    from lionpoc.study.config import load_run
    from lionpoc.study import layout

    run = load_run("lion", layout.project_root())
    n_train, n_val = 2602, 326
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n_train, args.width)).astype(np.float32)
    xv = x[:n_val]
    trainers = {}
    for classes in (15, 40, 100):
        y = rng.integers(0, classes, n_train)
        trainer = GridTrainer(run.spec, run.grid_points(), args.width, classes, n_train=n_train, batch_size=32,
                              dropout=0.2)
        trainer.train(x, y, xv, y[:n_val], epochs=1, patience=100, seed=0)  # compiles the epoch
        trainers[classes] = (trainer, y)
    times = {classes: [] for classes in trainers}
    for round_ in range(args.rounds):
        order = list(trainers)[round_ % 3:] + list(trainers)[:round_ % 3]
        for classes in order:
            trainer, y = trainers[classes]
            start = time.perf_counter()
            trainer.train(x, y, xv, y[:n_val], epochs=args.epochs, patience=100, seed=0)
            times[classes].append((time.perf_counter() - start) / args.epochs / n_train)
    base = np.median(times[15])
    for classes, values in times.items():
        median = np.median(values)
        print(f"{classes:>3} classes: {median * 1e6:6.1f} µs per training image and epoch (grid of "
              f"{len(run.grid_points())}; median of {args.rounds}), ratio to 15 classes {median / base:.2f}")


if __name__ == "__main__":
    main()
