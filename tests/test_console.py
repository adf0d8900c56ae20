"""The console shows our own lines only: library logs go to the log file, and nothing follows the last line."""
import logging
import subprocess
import sys
import textwrap

from lionpoc.console import native_stderr_to


def test_library_log_records_go_to_the_log_file_not_the_console(tmp_path, capfd):
    log_file = tmp_path / "study.log"
    handlers = list(logging.getLogger().handlers)
    with native_stderr_to(log_file):
        logging.getLogger("nbclient").error("Kernel died while waiting for execute reply.")
        print("our own progress line", file=sys.stderr)
    captured = capfd.readouterr()
    assert "Kernel died" in log_file.read_text() and "Kernel died" not in captured.err
    assert "our own progress line" in captured.err and "our own progress line" not in log_file.read_text()
    assert logging.getLogger().handlers == handlers  # as it was: later records go where they went before


def test_tasks_of_killed_kernels_print_nothing_at_exit():
    # What an interrupted study leaves: a task that failed and was never awaited. Without quiet_shutdown,
    # asyncio prints "Task exception was never retrieved" and a traceback when the interpreter exits.
    script = textwrap.dedent("""
        import asyncio, gc, sys
        from lionpoc.console import quiet_shutdown

        async def execute_cell():
            raise RuntimeError("Kernel died")

        loop = asyncio.new_event_loop()
        task = loop.create_task(execute_cell())
        loop.run_until_complete(asyncio.sleep(0.01))
        if sys.argv[1] == "quiet":
            quiet_shutdown()
        del task
        gc.collect()
        print("lionpoc: interrupted", file=sys.stderr)
    """)
    loud = subprocess.run([sys.executable, "-c", script, "loud"], capture_output=True, text=True)
    quiet = subprocess.run([sys.executable, "-c", script, "quiet"], capture_output=True, text=True)
    assert "Traceback" in loud.stderr and "Task exception was never retrieved" in loud.stderr
    assert quiet.stderr == "lionpoc: interrupted\n"
