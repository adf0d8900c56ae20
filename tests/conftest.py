"""Shared fixtures: small synthetic data sets, the real photos when present, the project root."""
import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
# The real photos: $LIONPOC_REAL_DATA, else ../shared/data/stanford_dogs_15 beside the checkout, else the
# workplace's shared folder (a CI clone may live elsewhere).
REAL_DATA = next((p for p in (Path(os.environ.get("LIONPOC_REAL_DATA", "/nonexistent")),
                              ROOT.parent / "shared" / "data" / "stanford_dogs_15",
                              Path("/work/shared/data/stanford_dogs_15")) if (p / "Images").is_dir()),
                 ROOT.parent / "shared" / "data" / "stanford_dogs_15")


@pytest.fixture(scope="session")
def synthetic_dir(tmp_path_factory):
    """15 breeds x 12 images of 48 px: enough for splits, fast to read."""
    from lionpoc.data.synth import make_synthetic

    return make_synthetic(tmp_path_factory.mktemp("synth") / "dogs", per_class=12, size=48, seed=1)


@pytest.fixture(scope="session")
def real_dir():
    if not (REAL_DATA / "Images").is_dir():
        pytest.skip(f"the real photos of the 15 breeds are not on this machine ({REAL_DATA} is absent)")
    return REAL_DATA


@pytest.fixture(scope="session")
def project_root():
    return ROOT


@pytest.fixture(scope="session")
def smoke_study(tmp_path_factory):
    """A finished smoke study (one seed, three optimizers) made by `lionpoc study`, with its console output;
    shared by the tests of every file (one smoke study per test session): a test that changes anything
    works on a copy."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("smoke") / "results"
    done = subprocess.run([sys.executable, "-m", "lionpoc.cli", "study", "--smoke", "--no-render", "--results-dir",
                           str(out)], cwd=ROOT, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out, done


@pytest.fixture(scope="session")
def smoke_results(smoke_study):
    return smoke_study[0]
