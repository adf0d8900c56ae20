"""Shared fixtures: small synthetic data sets, the real photos when present, the project root."""
import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
REAL_DATA = ROOT.parent / "shared" / "data" / "stanford_dogs_15"


@pytest.fixture(scope="session")
def synthetic_dir(tmp_path_factory):
    """15 breeds x 12 images of 48 px: enough for splits, fast to read."""
    from lionpoc.synth import make_synthetic

    return make_synthetic(tmp_path_factory.mktemp("synth") / "dogs", per_class=12, size=48, seed=1)


@pytest.fixture(scope="session")
def real_dir():
    if not (REAL_DATA / "Images").is_dir():
        pytest.skip(f"the real photos of the 15 breeds are not on this machine ({REAL_DATA} is absent)")
    return REAL_DATA


@pytest.fixture
def project_root():
    return ROOT
