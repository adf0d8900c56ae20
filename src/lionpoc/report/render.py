"""Rendering the French report with Quarto (HTML and Typst PDF) from ``results/``."""
from __future__ import annotations

import os
import re
import shutil
import shlex
import subprocess
import tempfile
from pathlib import Path

from lionpoc import files
from lionpoc.study import aggregate
from lionpoc.study import checks
from lionpoc.study import layout
from lionpoc.study.config import SMOKE_OVERRIDES, RunConfig
from lionpoc.console import QUIET_ENV
from lionpoc.errors import LionpocError

OUTPUT_DIR = "_output"
INSTALL_HINT = ("install Quarto >= 1.4 (`pip install quarto-cli`, which needs access to GitHub, or "
                "https://quarto.org/docs/get-started/), then run `lionpoc render`")


def quarto_binary() -> str | None:
    return shutil.which("quarto")


def check_results(results_dir: Path) -> list[str]:
    """Raise when there is nothing to report; return the optimizers whose results are missing."""
    if layout.find_runs(results_dir).empty:
        raise LionpocError(f"no results in {results_dir}: run `lionpoc study` (or `lionpoc study --smoke` "
                           "for a quick synthetic run) first.")
    return aggregate.missing(results_dir, aggregate.study_order(results_dir))


def resume_command(results_dir: Path, names: list[str], with_results_dir: bool = True, separator: str = " ") -> str:
    """The command that completes (or, with every name, remakes) this study: its own data, settings and
    results folder kept, read from its ``study.json``; ``separator`` between the command and each option."""
    try:
        record = files.read_json(Path(results_dir) / "study.json")
    except (OSError, ValueError):
        record = {}
    parts = ["lionpoc study", "--optimizers " + shlex.quote(",".join(names))]
    if record.get("smoke"):
        parts.append("--smoke")
    if record.get("seeds"):
        parts.append(f"--seeds {record['seeds']}")
    for key, option in (("data_dir", "--data-dir"), ("weights", "--weights"), ("image_size", "--image-size"),
                        ("backbone", "--backbone")):
        value = record.get(key)
        if value is not None and not (key == "weights" and record.get("smoke")):
            parts.append(f"{option} {shlex.quote(str(value))}")
    if record.get("fine_tune"):
        parts.append("--fine-tune")
        default = SMOKE_OVERRIDES["fine_tune_epochs"] if record.get("smoke") else RunConfig.fine_tune_epochs
        if record.get("fine_tune_epochs") not in (None, default):
            parts.append(f"--fine-tune-epochs {record['fine_tune_epochs']}")
        tuned, seeds = record.get("fine_tune_seeds"), record.get("seeds") or 1
        if tuned and tuned != min(RunConfig.fine_tune_seeds, seeds):
            parts.append(f"--fine-tune-seeds {tuned}")
    if (Path(results_dir) / "sensitivity.csv").is_file():
        parts.append("--sensitivity")
    if with_results_dir:
        parts.append(f"--results-dir {shlex.quote(str(results_dir))}")
    return separator.join(parts)


def remove_previous(output: Path, log=print) -> None:
    """Remove the report of an earlier render, so that a failed or refused render never leaves another
    version of the study's report (or another study's, in ``--output-dir``) as if it were this one's."""
    for path in (output / "report").glob("index.*"):
        if path.suffix in (".html", ".pdf"):
            try:
                path.unlink(missing_ok=True)
            except OSError:  # a read-only folder: the render says so when it tries to publish there
                return
            log(f"render: removed the previous report {path}")


def output_dir(results_dir: Path, root: Path) -> Path:
    """Where a study's report goes: ``<project>/_output`` for the project's own ``results/``, else
    ``<results>/_output``, so that two studies in one checkout never publish into one folder."""
    if Path(results_dir).resolve() == (root / "results").resolve():
        return root / OUTPUT_DIR
    return Path(results_dir) / OUTPUT_DIR


def render(results_dir: Path, log=print, output: Path | None = None) -> list[Path]:
    """Run ``quarto render`` on a private copy of the report's sources; publish the HTML and PDF into
    ``output`` (default: ``output_dir``) and return them.

    Quarto writes beside ``index.qmd`` while it renders (``index_files``, ``index.quarto_ipynb``, ...):
    in a private folder, renders of two studies at once never meet, an interrupted render leaves nothing
    in the project, and read-only results can be rendered (the log then goes to the temporary folder).
    """
    root = layout.project_root()
    results_dir = Path(results_dir)
    output = Path(output).resolve() if output else output_dir(results_dir, root)
    checks.outside_sources(output, root, "--output-dir")  # publishing replaces its report/ folder
    try:
        missing = check_results(results_dir)
        names = aggregate.study_order(results_dir) or sorted(layout.find_runs(results_dir)["optimizer"].unique())
        checks.readable_record(results_dir)
        checks.mixed_inputs(results_dir, resume_command(results_dir, names) + " --force")  # the study's own options
        checks.split_matches_runs(results_dir)
    except LionpocError:
        remove_previous(output, log)
        raise
    remove_previous(output, lambda *_: None)  # replaced below; never left behind by a failed render
    if missing:
        log(f"render: no results for {', '.join(missing)}; the report will say so. Produce them with "
            f"`{resume_command(results_dir, missing)}`.")
    quarto = quarto_binary()
    if quarto is None:
        raise LionpocError(f"the quarto command is not installed: {INSTALL_HINT}.")
    made = files.missing_folders(output)  # removed again if the render fails: no empty _output/ left
    ensure_output(output)
    try:
        return _render(results_dir, output, quarto, root, log)
    except BaseException:
        files.remove_if_empty([output / "report", *made])
        raise


def _render(results_dir: Path, output: Path, quarto: str, root: Path, log=print) -> list[Path]:
    env = {**os.environ, **QUIET_ENV, layout.RESULTS_ENV: str(results_dir)}
    log(f"render: quarto render (HTML and PDF) from {results_dir}...")
    log_file = render_log(results_dir)
    work = Path(tempfile.mkdtemp(prefix="lionpoc-render-"))
    try:
        copy_sources(root, work)
        code = run_filtered([quarto, "render"], work, env, log_file, log)
        if code != 0:
            for line in last_lines(log_file):
                log(f"  {line}")
            raise LionpocError(f"quarto render failed (exit code {code}); its last messages are above, all of them "
                               f"in {log_file}.")
        try:
            publish(work / OUTPUT_DIR, output)
        except LionpocError as exc:  # a full disk during the final copy: nothing half-published
            raise LionpocError(f"the report was rendered but could not be copied into {output} "
                               f"({str(exc).split(': ', 1)[-1].split(';')[0]}), so it holds no report now: free "
                               f"some space (or pass --output-dir) and run `lionpoc render` again.") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    publish_notebooks(results_dir, output)
    if log_file.parent != Path(results_dir) / "logs":  # read-only results: a log in the temporary folder,
        log_file.unlink(missing_ok=True)              # not worth keeping once the render succeeded
    outputs = sorted(p for p in (output / "report").glob("index.*") if p.suffix in (".html", ".pdf"))
    for path in outputs:
        log(f"render: wrote {path}")
    return outputs


def ensure_output(output: Path) -> None:
    """Fail before Quarto starts when the report's folder cannot be written, and say what to do."""
    try:
        output.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=output, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise LionpocError(f"cannot write the report into {output} ({exc.strerror or exc}): pass --output-dir "
                           "with a folder you can write to.") from None


def render_log(results_dir: Path) -> Path:
    """``<results>/logs/render.log``, or a file in the temporary folder when the results are read-only."""
    logs = Path(results_dir) / "logs"
    try:
        logs.mkdir(parents=True, exist_ok=True)
        with open(logs / "render.log", "a", encoding="utf-8"):
            pass
        return logs / "render.log"
    except OSError:
        return Path(tempfile.gettempdir()) / f"lionpoc-render-{os.getpid()}.log"


# The report's sources: what Quarto reads (the rest of the project stays where it is).
SOURCES = ("_quarto.yml", "report")


def copy_sources(root: Path, work: Path) -> None:
    """Copy ``_quarto.yml`` and ``report/`` (without what an earlier render left there) into ``work``."""
    shutil.copy2(root / "_quarto.yml", work / "_quarto.yml")
    shutil.copytree(root / "report", work / "report",
                    ignore=shutil.ignore_patterns(*INTERMEDIATES, "index.quarto_ipynb*", ".quarto"))


def publish(rendered: Path, output: Path) -> None:
    """Move each folder Quarto wrote (``report/``) into ``output``, whole: a reader never sees half of it."""
    for source in sorted(rendered.iterdir()):
        if source.is_dir():
            with files.atomic_dir(output / source.name) as staging:
                shutil.copytree(source, staging, dirs_exist_ok=True)
        else:
            with files.atomic_path(output / source.name) as tmp:
                shutil.copyfile(source, tmp)


# Lines of the Jupyter kernel that Quarto starts (not Quarto's own progress): logged, not shown.
KERNEL_NOISE = re.compile(r"IPKernelApp|absl::|^[WEI]\d{4} |cuda|oneDNN|TF_ENABLE_ONEDNN_OPTS|cuInit|"
                          r"computation placer|tensorflow/core|Unable to register")


# Quarto's own lines worth a reader's attention; the rest (cell by cell progress, pandoc's settings) is logged.
PROBLEM = re.compile(r"^\[?(WARN(ING)?|ERROR)\b", re.IGNORECASE)  # Quarto's "WARNING", pandoc's "[WARNING]", Typst's "error:"
FORMATS = ("HTML", "PDF")  # the order of the formats in _quarto.yml


def run_filtered(command: list[str], cwd: Path, env: dict, log_file: Path, log=print) -> int:
    """Run ``command``; every line goes to ``log_file``; the console gets one line per format executed
    and Quarto's warnings and errors."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    executions = 0
    with open(log_file, "w", encoding="utf-8") as record:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, encoding="utf-8", errors="replace")
        try:
            for line in process.stdout:
                record.write(line)
                for part in line.rstrip("\n").split("\r"):
                    part = part.replace("Starting python3 kernel...", "").strip()
                    if part.startswith("Executing "):
                        what = FORMATS[executions] if executions < len(FORMATS) else "next format"
                        executions += 1
                        log(f"render: {what}: running the report's code cells on the results...")
                    elif PROBLEM.search(part) and not KERNEL_NOISE.search(part):
                        log(part)
        except BaseException:  # Ctrl-C, SIGTERM, a closed pipe: Quarto stops with us
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
            raise
        return process.wait()


def last_lines(log_file: Path, count: int = 30) -> list[str]:
    """The end of a failed render's log, without the kernel's noise: where Quarto says what went wrong."""
    try:
        lines = log_file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    return [line for line in lines if line.strip() and not KERNEL_NOISE.search(line)][-count:]


# What Quarto writes next to the .qmd while it renders and moves or deletes when it finishes.
INTERMEDIATES = ("index.html", "index_files", "index.typ")


def publish_notebooks(results_dir: Path, output_dir: Path) -> list[Path]:
    """Copy the executed notebooks next to the report, where its links expect them
    (``<output>/results/<optimizer>/training.{html,ipynb}``, and ``<optimizer>/seed-<k>/training.*`` for a
    study whose seeds ran on a cluster), wherever the results live."""
    copied = []
    for source in sorted([*Path(results_dir).glob("*/training.*"), *Path(results_dir).glob("*/seed-*/training.*")]):
        if source.suffix in (".html", ".ipynb") and "partial" not in source.name and "failed" not in source.name:
            target = output_dir / "results" / source.relative_to(results_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            with files.atomic_path(target) as tmp:  # its mode from the umask, as any new file
                shutil.copyfile(source, tmp)
            copied.append(target)
    return copied


def render_or_explain(results_dir: Path, log=print) -> list[Path]:
    """Render when Quarto is available; otherwise say how to get it (not an error for the study)."""
    if quarto_binary() is None:
        log(f"render: skipped, the quarto command is not installed: {INSTALL_HINT}.")
        return []
    return render(results_dir, log)
