"""Executing the notebook template with papermill: one execution per optimizer, quiet, atomic.

:class:`KernelPool` is the study's default executor: the executions run as papermill kernels on this
machine, a few at a time (``lionpoc.study.cluster`` holds the other one, a Dask cluster).

The kernel's own output (TensorFlow's C++ start-up lines, absl, CUDA probing, Jupyter's warnings)
goes to ``<results>/logs/<optimizer>.log``, never to the console or into the notebook's cells; the
path is printed when an execution fails. The executed notebook is written under a temporary name
and moved in place only when the execution succeeded.
"""
from __future__ import annotations

import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lionpoc import console
from lionpoc import files
from lionpoc.study import layout
from lionpoc.study.config import RunConfig
from lionpoc.errors import LionpocError

TEMPLATE = Path("analysis/train.ipynb")
# Environment of the kernels: the console's quiet settings, and Python warnings off.
QUIET_ENV = {**console.QUIET_ENV, "PYTHONWARNINGS": "ignore"}
# fd-level output (C++ logs) stays out of the cells and goes to the kernel's stderr, i.e. the log file.
KERNEL_ARGUMENTS = ["--IPKernelApp.capture_fd_output=False", "--IPKernelApp.log_level=ERROR"]


def stop_kernels(kernels: set, wait_seconds: float = 10.0) -> None:
    """Kill every kernel of ``kernels`` still running (Ctrl-C or SIGTERM): their executions then end at once.

    The kill is waited for: a kernel caught inside a file-system call (the rename that saves a seed's folder,
    an fsync) finishes that call before it dies, so the results folder is final only once every kernel has
    exited. What the interruption message lists as kept is read after this returns."""
    processes = list(kernels)
    for process in processes:
        try:
            process.kill()
        except (OSError, ProcessLookupError):
            pass
    deadline = time.monotonic() + wait_seconds
    for process in processes:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except Exception:  # noqa: BLE001 - already reaped elsewhere, or a handle without wait(): nothing to wait for
            pass
    kernels.clear()


def log_path(results_dir: str | Path, optimizer: str) -> Path:
    return Path(results_dir) / "logs" / f"{optimizer}.log"


def kernel_environment(base, extra_env: dict | None = None) -> dict:
    """A kernel's environment: ``base``, quieted, with ``extra_env`` on top (a value None removes the variable)."""
    env = {**base, **QUIET_ENV, **(extra_env or {})}
    return {name: str(value) for name, value in env.items() if value is not None}


def quiet_kernel_manager(log_file: Path, extra_env: dict | None = None, kernels: set | None = None):
    """A Jupyter kernel manager whose kernel writes its stdout and stderr to ``log_file``; its process is
    added to ``kernels``, so that an interruption can stop it. ``extra_env`` goes into the kernel's
    environment, where a value None removes the variable."""
    from jupyter_client.manager import AsyncKernelManager

    class QuietKernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd, **kw):
            handle = open(log_file, "ab")  # noqa: SIM115 - the kernel process owns it from here
            kw["stdout"] = kw["stderr"] = handle
            kw["env"] = kernel_environment(kw.get("env", os.environ), extra_env)
            try:
                result = await super()._async_launch_kernel(kernel_cmd, **kw)
            finally:
                handle.close()  # the child keeps its own copy of the descriptor
            process = getattr(self.provisioner, "process", None)
            if process is not None and kernels is not None:
                kernels.add(process)
            return result

    return QuietKernelManager


def execute(cfg: RunConfig, root: Path, threads: int | None = None, kernels: set | None = None,
            extra_env: dict | None = None) -> tuple[Path, float]:
    """Run the template (``root / TEMPLATE``) for one optimizer and its seeds; return the notebook and the
    seconds it took. ``extra_env`` goes into the kernel's environment."""
    import papermill as pm

    out = layout.notebook_path(cfg.results_dir, cfg.optimizer)
    out.parent.mkdir(parents=True, exist_ok=True)
    log_file = log_path(cfg.results_dir, cfg.optimizer)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    log_file.write_text(f"papermill {TEMPLATE} for {cfg.optimizer}, seeds {cfg.seeds}\n", encoding="utf-8")
    partial = out.with_name(".training.partial.ipynb")
    failed = out.with_name("training.failed.ipynb")
    env = {**({"LIONPOC_THREADS": str(threads)} if threads else {}), **(extra_env or {})}
    start = time.perf_counter()
    try:
        pm.execute_notebook(str(root / TEMPLATE), str(partial), parameters=cfg.to_params(), cwd=str(root),
                            kernel_name="python3", progress_bar=False, log_output=False,
                            kernel_manager_class=quiet_kernel_manager(log_file, env, kernels), extra_arguments=KERNEL_ARGUMENTS)
    except pm.PapermillExecutionError as exc:
        _move(partial, failed)
        if exc.ename == "LionpocError":  # our own sentence, raised in the notebook: said as it is
            raise LionpocError(f"the {cfg.optimizer} notebook stopped in cell {exc.exec_count}: "
                               f"{_first_line(exc.evalue)} (executed notebook: {failed}).") from None
        # The traceback is in the executed notebook, not in the kernel's log (its native lines): name the notebook.
        raise LionpocError(f"the {cfg.optimizer} notebook failed in cell {exc.exec_count}: {exc.ename}: "
                           f"{_first_line(exc.evalue)} (its traceback is in the executed notebook: {failed}).") \
            from None
    except OSError as exc:  # disk full, folder gone: papermill could not write the notebook
        partial.unlink(missing_ok=True)
        raise LionpocError(f"the {cfg.optimizer} notebook could not be written ({exc.strerror or exc}); "
                           "free some space or pass another --results-dir.") from None
    except Exception as exc:
        partial.unlink(missing_ok=True)
        if KERNEL_START_FAILURE.search(f"{type(exc).__name__} {exc}"):
            raise KernelStartFailed(f"the kernel of the {cfg.optimizer} notebook could not start "
                                    f"({_first_line(str(exc))[:160]}); run the same command again.") from None
        if not _kernel_died(exc):
            raise
        last = last_log_line(log_file)
        raise LionpocError(f"the kernel of the {cfg.optimizer} notebook died ("
                           + (f"its log ends with: {last}; kernel log: {log_file}" if last else
                              "its log says nothing: killed from outside, e.g. by the system when memory ran out")
                           + "); the seeds already saved are kept: run the same command again to resume.") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    seconds = time.perf_counter() - start
    os.replace(partial, out)
    failed.unlink(missing_ok=True)
    export_html(out)
    return out, seconds


class KernelStartFailed(LionpocError):
    """A kernel that did not start (its ports taken by another kernel started at the same moment, or it died
    before answering): one sentence on one machine; a cluster worker tries again."""


# Words of the errors a kernel that could not start raises (a port already taken, no reply to kernel_info).
KERNEL_START_FAILURE = re.compile(r"Address already in use|Kernel died before replying|kernel_info|ZMQError",
                                  re.IGNORECASE)


def _kernel_died(exc: BaseException) -> bool:
    """A kernel that died while it ran the notebook (killed, out of memory, a crash in native code); not one
    that never started ("Kernel died before replying to kernel_info"), which a cluster worker starts again."""
    from nbclient.exceptions import DeadKernelError

    return isinstance(exc, DeadKernelError)


# A kernel's start-up lines (TensorFlow, absl, CUDA probing, Jupyter): never why it died.
KERNEL_NOISE = re.compile(r"absl::|^[WEI]\d{4} |cuda|oneDNN|TF_ENABLE_ONEDNN_OPTS|cuInit|computation placer|"
                          r"tensorflow/core|Unable to register|^papermill |IPKernelApp|To enable the following")


def last_log_line(log_file: Path) -> str:
    """The last line of a kernel's log that is not start-up noise, or ''."""
    try:
        lines = Path(log_file).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    meaningful = [line.strip() for line in lines if line.strip() and not KERNEL_NOISE.search(line)]
    return meaningful[-1][:200] if meaningful else ""


def seed_line(cfg: RunConfig, seed: int) -> str:
    """What a finished seed chose and scored, for the study's console."""

    m = files.read_json(layout.run_dir(cfg.results_dir, cfg.optimizer, seed) / "metrics.json")
    chosen = ", ".join(f"{k} {m[k]:g}" for k in cfg.spec.axes)
    return (f"{cfg.optimizer} seed {seed}: chosen {chosen}; test accuracy {m['test_accuracy']:.3f} "
            f"({m['epochs_run']} epochs, best {m['best_epoch']}; {m.get('configurations_tried', m['grid_size'])} "
            f"configurations" + (f", still on the edge of {m['edge_axes']}" if m.get("edge_axes") else "") + ")"
            + (f"; fine-tuned: {m['ft_test_accuracy']:.3f} in {m['ft_wall_seconds']:.0f} s "
               f"(estimated {m['ft_estimated_seconds']:.0f} s)" if "ft_test_accuracy" in m else ""))


class KernelPool:
    """The executions as papermill kernels on this machine, ``jobs`` at a time (threads wait on them).

    On an interruption, the kernels this pool started are killed, so the other executions end at once
    instead of running on; their partial notebooks are removed, finished seeds are kept.
    """

    def __init__(self, jobs: int = 1):
        self.jobs = jobs
        self.kernels: set = set()

    def run(self, todo: list[RunConfig], study, log=print) -> list[dict]:
        jobs = self.jobs
        threads = max(1, (os.cpu_count() or 1) // jobs) if jobs > 1 else None
        log(f"study: {len(todo)} notebook execution(s) of {TEMPLATE} with papermill, {jobs} at a time")

        def one(cfg):
            start = time.perf_counter()
            notebook, seconds = execute(cfg, study.root, threads, self.kernels)
            for seed in cfg.seeds:
                log(seed_line(cfg, seed))
            log(f"{cfg.optimizer}: notebook {notebook} ({seconds:.0f} s)")
            return {"optimizer": cfg.optimizer, "seeds": list(cfg.seeds), "seconds": seconds,
                    "start": start, "end": time.perf_counter()}

        try:
            if jobs == 1 or len(todo) <= 1:
                return [one(cfg) for cfg in todo]
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                futures = [pool.submit(one, cfg) for cfg in todo]
                try:
                    return [future.result() for future in futures]
                except BaseException:
                    for future in futures:
                        future.cancel()
                    stop_kernels(self.kernels)  # the other executions end now instead of running on
                    raise
        except BaseException:
            stop_kernels(self.kernels)
            raise


def combine(cfg: RunConfig, seeds: list[int]) -> Path:
    """The per-optimizer view when the seeds ran in several notebooks (on a cluster): the first notebook with
    the outputs of every notebook's last cell, i.e. what one execution of all the seeds shows. A notebook
    that ran several seeds sits in the folder of each of them and counts once. Written to
    ``<results>/<optimizer>/training.ipynb`` (and its HTML copy)."""
    import nbformat

    texts, ran = {}, {}
    for s in seeds:
        text = (layout.run_dir(cfg.results_dir, cfg.optimizer, s) / "training.ipynb").read_text(encoding="utf-8")
        texts.setdefault(text, s)
        ran.setdefault(text, []).append(s)
    books = [nbformat.reads(text, as_version=4) for text in texts]
    view = books[0]
    for cell in view.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.source = re.sub(r"(?m)^seeds = .*$", f"seeds = {list(seeds)}", cell.source)
    last = max(i for i, c in enumerate(view.cells) if c.cell_type == "code")
    view.cells[last].outputs = [o for book in books for o in book.cells[last].outputs]
    links = [f"[{french_seeds(group)}](seed-{group[0]}/training.ipynb)" for group in ran.values()]
    how = ("chaque graine a été exécutée dans son propre carnet" if len(books) == len(seeds) else
           f"les graines ont été exécutées en {len(books)} carnets, chacun publié dans le dossier de ses graines")
    view.cells.insert(0, nbformat.v4.new_markdown_cell(
        f"Vue d'ensemble\u00a0: {how}, sur une grappe Dask\u00a0; ce carnet rassemble leurs sorties. "
        "Carnets\u00a0: " + ", ".join(links) + "."))
    out = layout.notebook_path(cfg.results_dir, cfg.optimizer)
    files.atomic_write_text(out, nbformat.writes(view))
    export_html(out)
    return out


def french_seeds(seeds: list[int]) -> str:
    """``graine 2``, ``graines 0 et 1``, ``graines 0, 1 et 2``."""
    if len(seeds) == 1:
        return f"graine {seeds[0]}"
    return f"graines {', '.join(map(str, seeds[:-1]))} et {seeds[-1]}"


def export_html(notebook: Path) -> Path:
    """An HTML copy of an executed notebook, readable in a browser without Jupyter."""
    import nbformat
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nbformat.read(notebook, as_version=4))
    return files.atomic_write_text(notebook.with_suffix(".html"), body)


def _move(source: Path, target: Path) -> None:
    try:
        os.replace(source, target)
    except OSError:
        source.unlink(missing_ok=True)


def _first_line(text: str) -> str:
    lines = [line for line in str(text).splitlines() if line.strip()]
    return lines[0] if lines else str(text)
