"""The ``lionpoc`` command: download, synth, study, render, bench."""
from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from lionpoc.study.config import MAX_IMAGE_SIZE, SMOKE_OVERRIDES, SPLITS, RunConfig
from lionpoc.console import native_stderr_to, quiet_environment, quiet_shutdown
from lionpoc import files
from lionpoc.errors import LionpocError
from lionpoc.model import backbones


SYNTH_MAX_PER_CLASS = 5000  # 75,000 images: far more than any study here needs


def _optimizer_list(text: str) -> list[str]:
    """Names as typed (lower-cased); whether each has a parameter file is checked by the study, with the list."""
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError("no optimizer given (e.g. --optimizers adam,lion)")
    return names


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="lionpoc", description=(
        "Does Lion beat Adam and AdamW for transfer learning with Xception on 15 Stanford Dogs breeds?"))
    sub = main.add_subparsers(dest="command", required=True)

    p = sub.add_parser("download", help="download Stanford Dogs and extract the 15 breeds")
    p.add_argument("--data-dir", type=Path, help="where the breed folders go (default: $LIONPOC_DATA or "
                   "data/raw/stanford_dogs)")

    p = sub.add_parser("synth", help="write a small synthetic data set in the same layout (tests, smoke)")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--per-class", type=int, default=40, help="images per breed (default 40)")
    p.add_argument("--size", type=int, default=96, help="image side in pixels (default 96)")
    p.add_argument("--seed", type=int, default=0)

    p = sub.add_parser("study", help="run the whole study (features, papermill per optimizer and seed, report)")
    p.add_argument("--optimizers", type=_optimizer_list,
                   help="comma-separated names of parameter files in analysis/params (default: those marked for the "
                        "default study: adam,adamw,lion; sgd is also shipped)")
    p.add_argument("--focus", help="the optimizer the question is about (default: the one whose parameter file says "
                                   "focus: true, i.e. lion)")
    p.add_argument("--seeds", type=int, help="runs per optimizer with different seeds (default 10, 1 with --smoke)")
    p.add_argument("--smoke", action="store_true",
                   help="synthetic data, random weights, tiny sizes: a few minutes on 2 CPU cores")
    p.add_argument("--data-dir", type=Path, help="the images: one subfolder per class, or train/ val/ test/ holding "
                   "them, optionally described by dataset.yaml (default: $LIONPOC_DATA or data/raw/stanford_dogs, "
                   "the 15 Stanford Dogs breeds)")
    p.add_argument("--results-dir", type=Path, help="where results go (default: $LIONPOC_RESULTS or results/)")
    p.add_argument("--backbone", choices=backbones.names(), default=backbones.DEFAULT,
                   help=f"the frozen network under the heads (default {backbones.DEFAULT}); "
                        + ", ".join(f"{b.name}: {b.label}, {b.default_size} px" for b in backbones.BACKBONES.values()))
    p.add_argument("--weights", help="imagenet (default), none, or a Keras weights file of the backbone without top")
    p.add_argument("--image-size", type=int, help="input side in pixels (default: the backbone's, smoke 71)")
    p.add_argument("--split", choices=SPLITS, default="random", help="random 80/10/10 (default) or official lists")
    p.add_argument("--force", action="store_true", help="redo runs even when their results are up to date")
    p.add_argument("--no-render", action="store_true", help="do not render the report at the end")
    p.add_argument("--jobs", type=int, help="notebook executions run at once (default: all of them, one per optimizer)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--cluster", metavar="ADDRESS",
                       help="run the feature pass and the executions on a Dask cluster: a scheduler address "
                            "(tcp://host:8786) or local:N for N single-threaded workers on this machine")
    where.add_argument("--scheduler-file", type=Path, metavar="FILE",
                       help="the Dask cluster whose scheduler wrote FILE (dask scheduler --scheduler-file FILE)")
    p.add_argument("--fine-tune", action="store_true",
                   help="also train the backbone's last layers with the head, on activations cached by the one pass "
                        "(Xception: block 14 on block-13 outputs, slow on a CPU; MobileNetV2: block 16 and the last "
                        "1x1 convolution)")
    p.add_argument("--fine-tune-epochs", type=int,
                   help=f"epoch budget of each fine-tuning configuration (default {RunConfig.fine_tune_epochs}, "
                        f"smoke {SMOKE_OVERRIDES['fine_tune_epochs']})")
    p.add_argument("--fine-tune-seeds", type=int,
                   help=f"fine-tune the seeds 0 to N-1 only, the others train their head alone (default "
                        f"{RunConfig.fine_tune_seeds}: a fine-tuning costs about a thousand times a head's training)")

    p.add_argument("--no-extend", dest="extend_grid", action="store_false",
                   help="train exactly the grids of analysis/params (a fixed budget); by default an axis whose chosen "
                        "value is on the grid's edge is extended by one grid step, twice at most")
    p.add_argument("--sensitivity", action="store_true",
                   help="also train each chosen configuration at batch sizes 32-256 (square-root rate scaling) and "
                        "with a cosine schedule, on the cached features: results/sensitivity.csv")

    p = sub.add_parser("render", help="render the French report (HTML and PDF) from the results")
    p.add_argument("--results-dir", type=Path, help="default: $LIONPOC_RESULTS or results/")
    p.add_argument("--output-dir", type=Path, help="where the report goes (default: _output/ for the project's "
                   "results/, else <results-dir>/_output)")

    p = sub.add_parser("bench", help="measure speed and memory ratios; writes results/benchmark.json")
    p.add_argument("--results-dir", type=Path, help="default: $LIONPOC_RESULTS or results/")
    p.add_argument("--images", type=int, default=128, help="images per timing (default 128)")
    p.add_argument("--image-size", type=int, default=299, help="input side in pixels (default 299, as in the real study)")
    p.add_argument("--skip-smoke-study", action="store_true", help="do not time a whole smoke study")
    p.add_argument("--cluster", metavar="ADDRESS",
                   help="instead, time the same study here and on this Dask cluster (e.g. local:2): wall times, "
                        "feature pass, overhead per task; writes results/benchmark_cluster.json")
    p.add_argument("--data-dir", type=Path, help="with --cluster: the photos to study (default: the smoke set)")
    p.add_argument("--seeds", type=int, default=3, help="with --cluster: seeds per optimizer (default 3)")
    p.add_argument("--seed-cost", action="store_true",
                   help="instead, what a seed costs: a profile of one optimizer's seeds, the default study's "
                        "trainings at 3 and 10 seeds (their ratio), a fine-tuning epoch against its floor, on "
                        "--data-dir with --backbone/--weights; writes results/benchmark_seeds.json")
    p.add_argument("--backbone", help="the backbone timed (default xception); not with --cluster")
    p.add_argument("--weights", default="imagenet", help="with --seed-cost: imagenet, none or FILE")
    p.add_argument("--repeats", type=int, default=1, help="with --seed-cost: times each study runs (default 1)")
    return main


def study_log() -> Path:
    """Where the study's native log lines go while it runs: a file in the temporary folder, moved to
    ``<results>/logs/study.log`` once the study has written there (a study that fails at its checks
    leaves the results folder exactly as it was, and no log: its own sentence says what is wrong)."""
    import tempfile

    return Path(tempfile.gettempdir()) / f"lionpoc-study-{os.getpid()}.log"


def keep_log(log_file: Path | None, results_dir, wrote: bool) -> Path | None:
    """Move the study's log under ``<results>/logs/`` when the study wrote there (``wrote``) and remove it
    otherwise (it then holds only TensorFlow's start-up lines); return where it is kept, if anywhere."""
    import shutil

    from lionpoc.study import layout

    if log_file is None or not log_file.is_file():
        return None
    logs = layout.results_dir(results_dir) / "logs"
    if wrote and log_file.stat().st_size > 0:
        try:
            logs.mkdir(parents=True, exist_ok=True)
            shutil.copy(log_file, logs / "study.log")
        except OSError:
            pass
        else:
            log_file.unlink(missing_ok=True)
            return logs / "study.log"
    log_file.unlink(missing_ok=True)
    return None


def log(message: str) -> None:
    """Progress lines, flushed at once so they appear live even when the output is piped."""
    print(message, flush=True)


def run(args: argparse.Namespace) -> None:
    if args.command == "download":
        from lionpoc.data.images import resolve_data_dir
        from lionpoc.data.download import download_dataset

        target = resolve_data_dir(args.data_dir)
        made = files.missing_folders(target)
        try:
            download_dataset(target)
        except BaseException:
            files.remove_if_empty(made)  # a partial archive is kept (the download resumes); empty folders are not
            raise
    elif args.command == "synth":
        from lionpoc.data.synth import make_synthetic

        from lionpoc.data.images import min_images_per_breed

        needed = min_images_per_breed()
        if args.per_class < needed or args.size < 16:
            raise LionpocError(f"--per-class must be at least {needed} (what the study's 80/10/10 split needs for each "
                               f"breed) and --size at least 16, got {args.per_class} and {args.size}.")
        if args.per_class > SYNTH_MAX_PER_CLASS or args.size > MAX_IMAGE_SIZE:
            raise LionpocError(f"--per-class must be at most {SYNTH_MAX_PER_CLASS} (the real breeds have 150 to 250 "
                               f"photos each) and --size at most {MAX_IMAGE_SIZE} pixels (what a study accepts; one "
                               f"image of {args.size} px would need {3 * args.size ** 2 / 2 ** 30:.1f} GiB), got "
                               f"{args.per_class} and {args.size}.")
        out = make_synthetic(args.out, args.per_class, args.size, args.seed)
        print(f"wrote {15 * args.per_class} synthetic images ({args.size} px) to {out}")
    elif args.command == "study":
        from lionpoc import workflow
        from lionpoc.study import pipeline
        from lionpoc.study.options import StudyOptions

        with native_stderr_to(study_log()) as log_file:
            study = None
            try:
                study = pipeline.plan(StudyOptions.from_args(args))
                with pipeline.executor_for(args.cluster, args.scheduler_file, log) as executor:
                    workflow.run(study, executor, log)
            finally:  # the native lines (TensorFlow's start-up) are kept with the results, never pointed to
                keep_log(log_file, args.results_dir, study is not None and study.writing)
    elif args.command == "render":
        from lionpoc.study import layout
        from lionpoc.report.render import render

        render(layout.results_dir(args.results_dir), log, args.output_dir)
    elif args.command == "bench":
        from lionpoc.study import layout
        from lionpoc.bench import run_benchmark

        made = files.missing_folders(layout.results_dir(args.results_dir))
        with native_stderr_to(study_log()) as log_file:
            try:
                if args.seed_cost:
                    from lionpoc.bench import run_seed_benchmark

                    run_seed_benchmark(layout.results_dir(args.results_dir), args.data_dir, args.backbone,
                                       args.weights, repeats=args.repeats, log=log)
                elif args.cluster:
                    from lionpoc.bench import run_cluster_benchmark

                    run_cluster_benchmark(layout.results_dir(args.results_dir), args.cluster, args.data_dir,
                                          args.image_size, args.seeds, log)
                else:
                    run_benchmark(layout.results_dir(args.results_dir), args.images, args.image_size,
                                  smoke_study=not args.skip_smoke_study, log=log, backbone=args.backbone)
            except BaseException:
                files.remove_if_empty(made)  # an interrupted or failed bench leaves no empty results folder
                raise
            finally:  # TensorFlow's start-up lines are not worth keeping, whatever happened
                if log_file is not None:
                    log_file.unlink(missing_ok=True)


def kept_runs(args: argparse.Namespace) -> str:
    """The complete runs in the study's results folder, for the interruption message."""
    from lionpoc.study import layout

    try:
        runs = layout.find_runs(layout.results_dir(getattr(args, "results_dir", None)))
    except (OSError, LionpocError):
        return "none"
    return ", ".join(f"{r.optimizer} seed {r.seed}" for r in runs.itertuples()) or "none"


def _terminate(signum, frame):
    raise KeyboardInterrupt  # SIGTERM ends the study like Ctrl-C: kernels stopped, nothing partial left


def main(argv: list[str] | None = None) -> int:
    quiet_environment()
    args = parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    # A shell's `&` (and so `nohup lionpoc study &`) starts us with SIGINT ignored: Ctrl-C or `kill -INT`
    # would then do nothing, or kill a kernel and leave the study running. Python's own handling is restored,
    # so an interruption always stops the kernels, keeps what is complete and exits 130.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        run(args)
    except BaseException as exc:
        quiet_shutdown()  # first, while `exc` still holds the frames of the killed kernels' tasks
        return ending(exc, args)
    quiet_shutdown()
    return 0


def ending(exc: BaseException, args: argparse.Namespace) -> int:
    """One sentence and an exit status for how a command failed; anything else is a bug and is raised."""
    if isinstance(exc, LionpocError):
        print(f"lionpoc: error: {exc}", file=sys.stderr)
        return 1
    if isinstance(exc, KeyboardInterrupt):
        kept = kept_runs(args) if args.command == "study" else ""
        print("lionpoc: interrupted; nothing partial was left"
              + (f"; complete runs kept: {kept}. Run the same command again to resume." if kept else "."),
              file=sys.stderr)
        return 130
    if isinstance(exc, OSError):  # a last safety net: one sentence, never a traceback
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        print(f"lionpoc: error: {exc.strerror or exc}{where}.", file=sys.stderr)
        return 1
    raise exc


if __name__ == "__main__":
    sys.exit(main())
