"""What the run was made with: library versions and the machine."""
from __future__ import annotations

import functools
import os
import platform
from importlib import metadata
from pathlib import Path

PACKAGES = ("tensorflow", "keras", "numpy", "scikit-learn", "pandas", "matplotlib", "papermill", "lionpoc")


def versions() -> dict:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


# The package's code that makes a run's numbers: everything but the report's (which only presents them).
PRESENTATION = ("report",)


@functools.lru_cache(maxsize=None)
def code() -> dict:
    """The identity of the project's code this process runs: a hash of the package's Python sources (their
    paths and bytes, the report's excepted), and, in a git checkout, its commit and whether the sources
    differ from it (``dirty``). The installed version number says nothing of an edited checkout; the hash does.
    """
    import hashlib
    import subprocess

    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package)
        if relative.parts[0] in PRESENTATION or "__pycache__" in relative.parts:
            continue
        digest.update(str(relative).encode() + b"\0" + path.read_bytes() + b"\0")
    found = {"sha256": digest.hexdigest()[:16], "commit": None, "dirty": None}
    try:
        def git(*args):
            return subprocess.run(["git", "-C", str(package), *args], capture_output=True, text=True, timeout=10)

        head = git("rev-parse", "HEAD")
        if head.returncode == 0:
            status = git("status", "--porcelain", "--", ".")
            found["commit"] = head.stdout.strip()
            found["dirty"] = bool(status.stdout.strip()) if status.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):  # no git here: the hash alone
        pass
    return found


def machine() -> dict:
    import psutil

    return {"cpu": _cpu_name(), "cores": os.cpu_count(), "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "system": f"{platform.system()} {platform.release()}", "gpu": _gpus()}


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _gpus() -> list[str]:
    try:
        import tensorflow as tf

        return [gpu.name for gpu in tf.config.list_physical_devices("GPU")]
    except Exception:  # no TensorFlow, or no driver: report none
        return []


THREADS_ENV = "LIONPOC_THREADS"  # set by `lionpoc study --jobs N` so that N kernels share the cores


def limit_threads() -> None:
    """Give TensorFlow the number of threads in ``$LIONPOC_THREADS`` (before its first operation), and
    keep its Python logger to errors (retracing notes would otherwise reach the notebooks)."""
    import logging

    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    threads = os.environ.get(THREADS_ENV)
    if not threads:
        return
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(int(threads))
        tf.config.threading.set_inter_op_parallelism_threads(int(threads))
    except RuntimeError:  # TensorFlow already started in this process: keep its threads
        pass
