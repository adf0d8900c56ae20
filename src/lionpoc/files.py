"""Atomic writes: a file (or a folder) is either complete or absent, whatever stops the process."""
from __future__ import annotations

import json
import os
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pandas as pd

from lionpoc.errors import LionpocError

def umask() -> int:
    """The process's umask, read without changing it (``os.umask`` sets it, which races with other threads)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:
        current = os.umask(0o022)
        os.umask(current)
    return current


_UMASK_LOCK = threading.Lock()


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` only if the block succeeds.

    The rename is atomic on POSIX file systems, so a reader (or a crash) never sees half a file, and
    a failed write (disk full, exception) leaves the previous file untouched.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=path.parent)
    except OSError as exc:
        raise LionpocError(f"cannot write in {path.parent}: {exc.strerror or exc}.") from None
    os.close(fd)
    tmp = Path(tmp)
    os.chmod(tmp, 0o666 & ~umask())  # mkstemp makes it 0600: give it the mode any new file would have
    existed = path.exists()
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise LionpocError(f"could not write {path}: {reason(exc)}; {_left(existed)}.") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield a hidden sibling folder to fill; it replaces ``path`` only if the block succeeds.

    A run folder is then either the previous complete run or the new complete run, never a mix,
    whatever stops the process (an exception, Ctrl-C, a full disk); a stale sibling left by a
    killed process is removed the next time.
    """
    import shutil

    path = Path(path)
    staging = path.with_name(f".{path.name}.partial")
    old = path.with_name(f".{path.name}.old")
    try:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
        staging.mkdir(parents=True)
    except OSError as exc:
        raise LionpocError(f"cannot write in {path.parent}: {exc.strerror or exc}.") from None
    existed = path.exists()
    try:
        yield staging
        if path.exists():
            os.replace(path, old)
        os.replace(staging, path)
        shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if old.exists() and not path.exists():
            os.replace(old, path)
        raise LionpocError(f"could not write {path}: {reason(exc)}; {_left(existed)}.") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if old.exists() and not path.exists():
            os.replace(old, path)
        raise


def missing_folders(path: str | Path) -> list[Path]:
    """``path`` and those of its parents that do not exist yet, deepest first: what a command that creates
    ``path`` makes, and removes again (:func:`remove_if_empty`) when it fails."""
    path = Path(path).absolute()
    return [folder for folder in (path, *path.parents) if not folder.exists()]


def remove_if_empty(folders: list[Path]) -> None:
    """Remove each of ``folders`` (deepest first) that exists and is empty: no empty folder left by a failure."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:  # absent, or holding something (a partial download kept to resume): kept
            pass


def reason(exc: OSError) -> str:
    """Why a write failed, in words: ``No space left on device``, also for the list of (source, target, why)
    that ``shutil.copytree`` raises, whose temporary paths mean nothing to a reader."""
    import re
    import shutil

    if isinstance(exc, shutil.Error) and exc.args and isinstance(exc.args[0], list) and exc.args[0]:
        why = str(exc.args[0][0][-1])
        return re.sub(r"^\[Errno \d+\]\s*|:\s*'.*$", "", why).strip() or "an error while copying"
    return exc.strerror or str(exc)


def _left(existed: bool) -> str:
    return "the previous version is intact" if existed else "nothing was written there"


def atomic_write_text(path: str | Path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def atomic_write_bytes(path: str | Path, blob: bytes) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_bytes(blob)
    return Path(path)


def write_json(path: str | Path, data) -> Path:
    return atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=_jsonable) + "\n")


def write_csv(path: str | Path, table: pd.DataFrame, index: bool = False) -> Path:
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=index, float_format="%.10g")
    return Path(path)


def save_figure(path: str | Path, figure) -> Path:
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=150, bbox_inches="tight", format=Path(path).suffix.lstrip("."))
    return Path(path)


def read_json(path: str | Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _jsonable(value):
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")
