"""A quiet console: TensorFlow's native log lines go to a file, only our own progress is shown.

TensorFlow and absl write from C++ straight to file descriptor 2 (absl's "All log messages before
absl::InitializeLog()", CUDA probing, oneDNN notes), whatever Python does. ``native_stderr_to``
points descriptor 2 at a log file and gives Python's ``sys.stderr`` a private copy of the real
terminal, so our messages, progress bars and errors still reach the user. Python's own log
records (papermill, nbclient, asyncio, traitlets) go to the same file: "Kernel died" is a line of
the log, never of the console.
"""
from __future__ import annotations

import logging
import os
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path

QUIET_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "GRPC_VERBOSITY": "ERROR",
             "ABSL_MIN_LOG_LEVEL": "3", "KMP_WARNINGS": "0"}


def quiet_environment() -> None:
    """Ask TensorFlow for errors only (before it is imported); Python warnings are not shown."""
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)
    warnings.simplefilter("ignore")


@contextmanager
def native_stderr_to(log_file: Path):
    """Send descriptor 2 (native code) to ``log_file`` while Python's stderr keeps the terminal."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    python_stderr = sys.stderr
    try:
        with open(log_file, "ab") as handle:
            os.dup2(handle.fileno(), 2)
        sys.stderr = os.fdopen(os.dup(saved), "w", buffering=1, encoding="utf-8", errors="replace")
    except OSError:  # cannot write the log: keep everything as it was
        os.close(saved)
        yield None
        return
    library_logs = logging.StreamHandler(open(log_file, "a", encoding="utf-8", errors="replace"))  # noqa: SIM115
    library_logs.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s: %(message)s"))
    logging.getLogger().addHandler(library_logs)
    try:
        yield log_file
    finally:
        logging.getLogger().removeHandler(library_logs)
        library_logs.stream.close()
        sys.stderr.flush()
        private, sys.stderr = sys.stderr, python_stderr
        private.close()
        os.dup2(saved, 2)
        os.close(saved)


def quiet_shutdown() -> None:
    """Nothing more reaches the console once a command has said how it ended.

    After an interruption or a failure, the kernels this process killed leave asyncio tasks that
    end with ``DeadKernelError``; at interpreter exit asyncio would print each one as "Task exception
    was never retrieved" with its traceback. Those tasks are ours and were stopped on purpose.
    """
    logging.disable(logging.CRITICAL)
