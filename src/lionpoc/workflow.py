"""What `lionpoc study` does, as a Python call: the study's steps, then its report.

The layers point down (data -> model -> study -> report -> here): the study knows nothing of the report, so
the render is added here, as the study's last step while it still holds its results folder.

    from lionpoc.workflow import run_study
    run_study(fine_tune=True, seeds=10, cluster="tcp://scheduler:8786")
"""
from __future__ import annotations

import time
from pathlib import Path

from lionpoc import files
from lionpoc.report import render
from lionpoc.study import pipeline
from lionpoc.study.options import StudyOptions


def render_report(study: pipeline.Study, log=print) -> None:
    """The report's render when Quarto is there; its time goes into ``study.json``."""
    t0 = time.perf_counter()
    if render.render_or_explain(study.results_dir, log):
        study.record["render_seconds"] = time.perf_counter() - t0
        study.record["total_seconds"] = time.perf_counter() - study.started
        files.write_json(study.results_dir / "study.json", study.record)


def run(study: pipeline.Study, executor=None, log=print) -> Path:
    """Run (or resume) a planned study, then render its report unless it was planned without one."""
    return pipeline.run(study, executor, log, publish=render_report if study.render else None)


def run_study(executor=None, log=print, **options) -> Path:
    """Plan the study from ``options`` (the fields of :class:`StudyOptions`, named as `lionpoc study`'s options)
    and run it, on a Dask cluster when ``cluster`` or ``scheduler_file`` is given, or through ``executor``;
    return the results folder."""
    chosen = StudyOptions(**options)
    study = pipeline.plan(chosen)
    if executor is not None:
        return run(study, executor, log)
    with pipeline.executor_for(chosen.cluster, chosen.scheduler_file, log) as connected:
        return run(study, connected, log)
