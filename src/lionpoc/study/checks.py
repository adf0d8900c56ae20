"""Checks that keep a study's results honest: runs compared only when made from the same inputs, and a
line saying why a run is done again.

A study compares its optimizers on the same images, the same split, the same base and the same training
budget; only the optimizer and its grid differ. These checks run before anything in the results folder
changes (the study) or before Quarto starts (the render).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from lionpoc import files
from lionpoc import machine
from lionpoc.errors import LionpocError
from lionpoc.study import layout

# The parameters every run of a study shares: what the optimizers are compared on (the optimizer, its
# grid, the seeds and where files live are not among them). A parameter added later that is not listed
# here is not compared: the feature key below still covers the images, the base, its weights and size.
STUDY_INPUTS = ("backbone", "image_size", "split", "split_seed", "train_fraction", "val_fraction", "test_fraction",
                "epochs", "patience", "batch_size", "dropout", "smoke", "fine_tune", "fine_tune_epochs",
                "fine_tune_patience")
# What identifies the inputs beyond the parameters: the images and their features (file names, sizes,
# image size, base and weights, hashed), and the weights' content (a path may differ, the file not).
IDENTITY = ("feature_key", "weights_id", "code")   # code: the hash of lionpoc's sources that trained it


# What the parameter files of one study must agree on (besides STUDY_INPUTS): where the images come from,
# the backbone's weights, and how each grid may grow. Only `optimizer:` and `grid:` differ per optimizer.
AGREED = STUDY_INPUTS + ("data_dir", "weights", "extend_grid", "sensitivity")


def configs_agree(configs, root: Path) -> None:
    """Refuse, before any work, a study whose parameter files set an input differently for one optimizer
    (``image_size: 96`` in one file: one optimizer would be compared on other features, other images or another
    budget), naming the file and the key."""
    from lionpoc.model.optimizers import params_dir
    from lionpoc.project import read_param_file

    if len(configs) < 2:
        return
    first = configs[0].to_params()
    for cfg in configs[1:]:
        params = cfg.to_params()
        for key in AGREED:
            if params.get(key) == first.get(key):
                continue
            files_ = {c.optimizer: params_dir(root) / f"{c.optimizer}.yaml" for c in (configs[0], cfg)}
            said = []
            for c, value in ((cfg, params.get(key)), (configs[0], first.get(key))):
                path = files_[c.optimizer]
                try:
                    sets = key in read_param_file(path)
                except LionpocError:
                    sets = False
                said.append(f"{path} {'sets' if sets else 'leaves'} {key}{':' if sets else ' at'} {_show(value)}")
            raise LionpocError(
                f"the optimizers of this study would not be compared on the same inputs: {said[0]} while "
                f"{said[1]}; only `optimizer:` and `grid:` may differ between a study's parameter files (see the "
                f"README): give {key} the same value in each of them, or remove it.")


def inputs(metrics: dict) -> dict:
    """The study-level inputs a run was made from, as recorded in its ``metrics.json``."""
    params = metrics.get("params") or {}
    found = {k: params[k] for k in STUDY_INPUTS if k in params}
    found.update({k: metrics[k] for k in IDENTITY if k in metrics and k != "code"})
    if isinstance(metrics.get("code"), dict) and metrics["code"].get("sha256"):
        found["code"] = metrics["code"]["sha256"]  # not its commit: the same sources committed are the same code
    return found


def planned_inputs(cfg, feature_key: str | None = None) -> dict:
    """The same, for a configuration about to run (``feature_key`` once the features are known)."""
    from lionpoc.model import features

    params = cfg.to_params()
    found = {k: params[k] for k in STUDY_INPUTS if k in params}
    found["weights_id"] = features.weights_id(cfg.weights)
    found["code"] = machine.code()["sha256"]
    if feature_key is not None:
        found["feature_key"] = feature_key
    return found


# How a refusal names the inputs that are hashes rather than settings.
NAMES = {"feature_key": "feature key of the images", "weights_id": "weights", "code": "lionpoc code"}


def differences(old: dict, new: dict) -> list[str]:
    """``image_size 71, here 80`` for each input both record with different values; the hashed identities
    only when no setting explains the difference (a changed image size changes the feature key too)."""
    keys = [key for key in sorted(set(old) & set(new)) if old[key] != new[key]]
    named = [key for key in keys if key not in IDENTITY] or keys
    return [f"{NAMES.get(key, key)} {_show(old[key])}, here {_show(new[key])}" for key in named]


# What the runs of one optimizer share besides the study's inputs: its description and grid.
PER_OPTIMIZER = ("optimizer_spec", "grid")


def optimizer_inputs(params: dict) -> dict:
    return {k: params[k] for k in PER_OPTIMIZER if k in params}


def others_share_inputs(configs, results_dir: Path, feature_key: str | None = None) -> None:
    """Refuse a study whose results folder keeps runs made from other inputs than this study's.

    The runs this study will (re)do or keep are its own; every other complete run in the folder ends up
    in the same tables and paired tests, so it must have been made from the same inputs (and, for another
    seed of an optimizer of this study, from the same grid).
    """
    planned = {(cfg.optimizer, seed) for cfg in configs for seed in cfg.seeds}
    by_name = {cfg.optimizer: cfg for cfg in configs}
    new = planned_inputs(configs[0], feature_key)
    found = []
    for run in layout.find_runs(results_dir).itertuples():
        if (run.optimizer, int(run.seed)) in planned or layout.is_damaged(run.path):
            continue
        metrics = files.read_json(Path(run.path) / "metrics.json")
        changed = differences(inputs(metrics), new)
        if run.optimizer in by_name:
            changed += differences(optimizer_inputs(metrics.get("params") or {}),
                                   optimizer_inputs(by_name[run.optimizer].to_params()))
        if changed:
            found.append((run.optimizer, int(run.seed), changed))
    if found:
        names = ", ".join(f"{name} seed {seed}" for name, seed, _ in found)
        every = ",".join(dict.fromkeys([*(name for name, _, _ in found), *(c.optimizer for c in configs)]))
        seeds = max(seed for _, seed, _ in found) + 1
        more = f" --seeds {seeds}" if seeds > len(configs[0].seeds) else ""
        raise LionpocError(
            f"{results_dir} holds runs made from other inputs than this study's ({names}: "
            f"{'; '.join(found[0][2])}), and runs from different inputs cannot be compared: run this command "
            f"again with --optimizers {every}{more} to redo them all with these inputs, or pass another --results-dir.")


def lock_results(results_dir: Path):
    """Hold the results folder for this study until :func:`unlock` (or the process's end); refuse when another
    study holds it.

    Two studies writing one folder at once would mix their runs and tables. The lock file lives in the
    temporary folder, so that a study refused at its checks leaves the results folder exactly as it was, and
    :func:`unlock` removes it. A lock file removed by the study that held it while another had it open is
    not held: that one opens it again.
    """
    import fcntl
    import hashlib
    import os
    import tempfile

    name = hashlib.sha256(str(Path(results_dir).resolve()).encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"lionpoc-results-{name}.lock"
    for _ in range(10):
        handle = open(path, "a+")  # noqa: SIM115 - held until unlock
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise LionpocError(f"another lionpoc study is writing into {results_dir}: wait for it to end, or pass "
                               "another --results-dir.") from None
        try:
            if os.stat(path).st_ino == os.fstat(handle.fileno()).st_ino:
                return handle
        except FileNotFoundError:
            pass
        handle.close()  # removed (and perhaps made again) by the study that held it: open the current one
    raise LionpocError(f"cannot lock {results_dir}: its lock file {path} keeps being replaced.")


def unlock(handle) -> None:
    """Release the folder :func:`lock_results` holds and remove its lock file (removed first, while held)."""
    import os

    if handle is None or handle.closed:
        return
    try:
        os.unlink(handle.name)
    except OSError:
        pass
    handle.close()


def outside_sources(folder: Path, root: Path, option: str = "--results-dir") -> None:
    """Refuse a results (or report) folder that is the project itself or one of its source folders."""
    here = Path(folder).resolve()
    sources = [root.resolve(), *((root / name).resolve() for name in ("analysis", "report", "src", "tests"))]
    for source in sources:
        if here == source or (source != sources[0] and source in here.parents):
            where = "the project folder" if source == sources[0] else f"inside {source}"
            raise LionpocError(f"{option} {folder} is {where}: its files would mix with the project's own; pass a "
                               "folder of its own (e.g. results-2).")


def command_from_runs(results_dir: Path) -> str:
    """The command that made the runs in ``results_dir``, read from their ``metrics.json`` (for when the
    study's own record is unreadable): its optimizers, seeds, data, weights, sizes and results folder."""
    import shlex

    found = [r for r in layout.find_runs(results_dir).itertuples() if not layout.is_damaged(r.path)]
    names = list(dict.fromkeys(r.optimizer for r in found))
    parts = ["lionpoc study"] + ([f"--optimizers {','.join(names)}"] if names else [])
    try:
        params = files.read_json(Path(found[0].path) / "metrics.json").get("params") or {}
    except (IndexError, OSError, ValueError):
        params = {}
    if params.get("smoke"):
        parts.append("--smoke")
    seeds = max((int(r.seed) for r in found), default=-1) + 1
    if seeds:
        parts.append(f"--seeds {seeds}")
    for key, option in (("data_dir", "--data-dir"), ("weights", "--weights"), ("image_size", "--image-size"),
                        ("backbone", "--backbone")):
        if params.get(key) is not None and not (key == "weights" and params.get("smoke")):
            parts.append(f"{option} {shlex.quote(str(params[key]))}")
    if params.get("fine_tune"):
        parts.append("--fine-tune")
    return " ".join(parts + [f"--results-dir {shlex.quote(str(results_dir))}"])


def readable_record(results_dir: Path) -> None:
    """Refuse to report a study whose ``study.json`` is there but damaged (cut short, edited): the report would
    say it is absent. The study's own command rewrites it and keeps the runs."""
    path = Path(results_dir) / "study.json"
    if not path.exists():
        return
    command = command_from_runs(results_dir)
    try:
        record = files.read_json(path)
    except (OSError, ValueError) as exc:
        why = getattr(exc, "strerror", None) or "not JSON"
        raise LionpocError(f"{path} is damaged ({why}): run `{command}` again, which keeps the runs and rewrites "
                           "it, then render.") from None
    if not isinstance(record, dict):
        raise LionpocError(f"{path} is damaged (not a JSON mapping): run `{command}` again, which keeps the runs "
                           "and rewrites it, then render.")


def mixed_inputs(results_dir: Path, command: str | None = None) -> None:
    """Refuse to report runs made from different inputs (a notebook run by hand, a folder assembled by hand,
    seeds of one optimizer with different grids); ``command`` redoes the study with its own options."""
    runs = [r for r in layout.find_runs(results_dir).itertuples() if not layout.is_damaged(r.path)]
    reference, firsts = None, {}  # the study's first run; each optimizer's first run
    for run in runs:
        metrics = files.read_json(Path(run.path) / "metrics.json")
        own = optimizer_inputs(metrics.get("params") or {})
        reference = reference or (run, inputs(metrics))
        firsts.setdefault(run.optimizer, (run, own))
        against, changed = reference[0], differences(inputs(metrics), reference[1])
        if not changed:
            against, changed = firsts[run.optimizer][0], differences(own, firsts[run.optimizer][1])
        if changed:
            detail = "; ".join(c.replace(", here ", f" against {against.optimizer} seed {against.seed}'s ")
                               for c in changed[:3])
            raise LionpocError(
                f"the runs in {results_dir} were made from different inputs ({run.optimizer} seed {run.seed}: "
                f"{detail}), so they cannot be compared in one report: run `"
                + (command or f"lionpoc study --force --results-dir {results_dir}")
                + "` to redo them all with the same inputs.")


def split_matches_runs(results_dir: Path) -> None:
    """Refuse a ``split.csv`` whose test images are not the ones the runs were tested on (edited, or another
    study's): the report would print two different test-set sizes."""
    path = Path(results_dir) / "split.csv"
    runs = [r for r in layout.find_runs(results_dir).itertuples() if not layout.is_damaged(r.path)]
    if not runs:
        return
    tested = set(pd.read_csv(Path(runs[0].path) / "predictions.csv", usecols=["file"])["file"])
    remedy = (f"run `lionpoc study --results-dir {results_dir}` with the same options again: it keeps the runs "
              "and rewrites it")
    try:
        split = pd.read_csv(path, usecols=["file", "split"])
    except FileNotFoundError:
        raise LionpocError(f"{path} is missing: {remedy}.") from None
    except (OSError, ValueError) as exc:
        raise LionpocError(f"{path} cannot be read ({str(exc).splitlines()[0][:120]}): {remedy}.") from None
    listed = set(split.loc[split["split"] == "test", "file"])
    if listed != tested:
        raise LionpocError(f"{path} lists {len(listed)} test images but the runs were tested on {len(tested)} "
                           f"({len(listed ^ tested)} differ): it was edited or belongs to another study; {remedy}.")


def redo_notes(cfg, feature_key: str) -> list[str]:
    """Why each seed of ``cfg`` that was done before is done again (nothing for a seed kept or never done)."""
    from lionpoc.study import run_files

    notes = []
    for seed in cfg.seeds:
        folder = layout.run_dir(cfg.results_dir, cfg.optimizer, seed)
        damage = layout.damage(folder)
        if damage:
            notes.append(f"{cfg.optimizer} seed {seed}: its {damage[0]} is damaged; the run will be done again "
                         f"({damage[1]})")
        elif not layout.is_complete(folder):
            continue
        elif cfg.force:
            notes.append(f"{cfg.optimizer} seed {seed}: done again (--force)")
        elif not run_files.is_done(cfg, seed, feature_key):
            old = files.read_json(folder / "metrics.json")
            changed = differences(_run_inputs(old), _run_inputs_planned(cfg, seed, feature_key))
            why = "; ".join(changed[:3]) if changed else "the code that defines a run changed"
            notes.append(f"{cfg.optimizer} seed {seed}: done again, its inputs changed ({why})")
    return notes


# Where files live: never a reason for different numbers.
PLACES = ("results_dir", "data_dir", "cache_dir", "force", "seeds", "weights", "fine_tune_seeds")


def _run_inputs(metrics: dict) -> dict:
    """Everything a run was made from (every parameter but where files live), to say what changed."""
    params = metrics.get("params") or {}
    return {**{k: v for k, v in params.items() if k not in PLACES}, **inputs(metrics)}


def _run_inputs_planned(cfg, seed: int, feature_key: str) -> dict:
    params = {k: v for k, v in cfg.to_params().items() if k not in PLACES}
    return {**params, **planned_inputs(cfg, feature_key), "seed": seed}


def _show(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
