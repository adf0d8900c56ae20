"""The `lionpoc` command run inside the test process: what a subprocess would give (exit status, stdout,
stderr), without a new Python importing TensorFlow for each call (about 8 s on these machines, most of a
refused command's time).

The command runs exactly as `python -m lionpoc.cli ARGS` would from ``cwd``: ``cli.main`` parses the
arguments, the working directory is ``cwd``, and both descriptors 1 and 2 are captured, so a native log line,
a progress bar or a traceback is seen where a user would see it. Tests that need a separate process (signals,
two commands at once, an environment of their own) keep calling the command as a subprocess.
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import traceback
from contextlib import contextmanager


@contextmanager
def _captured():
    """Descriptors 1 and 2 (and Python's sys.stdout/sys.stderr over them) sent to two temporary files."""
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    python_streams = sys.stdout, sys.stderr
    os.dup2(out.fileno(), 1)
    os.dup2(err.fileno(), 2)
    sys.stdout = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8", errors="replace")
    sys.stderr = os.fdopen(os.dup(2), "w", buffering=1, encoding="utf-8", errors="replace")
    texts = {}
    try:
        yield texts
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
            stream.close()
        sys.stdout, sys.stderr = python_streams
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)
        for name, handle in (("stdout", out), ("stderr", err)):
            handle.seek(0)
            texts[name] = handle.read().decode("utf-8", errors="replace")
            handle.close()


@contextmanager
def _working_directory(folder):
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def run(*args: str, cwd) -> subprocess.CompletedProcess:
    """``lionpoc ARGS`` from ``cwd``, in this process; an exception that escapes ``main`` (a bug) becomes a
    traceback on stderr and exit status 1, as the interpreter would print it."""
    from lionpoc import cli

    args = [str(a) for a in args]
    handlers = signal_handlers()
    with _working_directory(cwd), _captured() as texts:
        try:
            code = cli.main(args)
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:  # noqa: BLE001 - shown as the interpreter would show it
            traceback.print_exc()
            code = 1
    restore_signal_handlers(handlers)
    logging.disable(logging.NOTSET)  # main() silences logging once a command has ended
    return subprocess.CompletedProcess([sys.executable, "-m", "lionpoc.cli", *args], code,
                                       texts["stdout"], texts["stderr"])


def signal_handlers() -> dict:
    import signal

    return {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}


def restore_signal_handlers(handlers: dict) -> None:
    import signal

    for s, handler in handlers.items():
        signal.signal(s, handler)
