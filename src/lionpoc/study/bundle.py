"""What a cluster's workers receive instead of the images: the split, the feature cache, the template.

The study packs it once (:func:`pack`); each worker writes it into a folder of its own once
(:func:`unpack`), and the kernels it starts read their inputs back from that folder (:func:`read`, called by
``runs.prepare`` when ``$LIONPOC_PREPARED`` names the folder). The cache's files are those of
:class:`lionpoc.model.features.FeatureCache`, in ``<folder>/cache/``.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from lionpoc import files
from lionpoc.data import datasets
from lionpoc.model import features
from lionpoc.study import execute


def pack(prep, root: Path, activations: bool) -> dict:
    """What an execution needs instead of the images (``prep``: a ``runs.Prepared``): the split, the feature
    cache (with the activations where fine-tuning starts when it fine-tunes), the notebook template."""
    key, backbone = prep.features.key, prep.features.backbone
    cache = features.FeatureCache(Path(prep.cfg.cache_dir), backbone, key)
    template = (root / execute.TEMPLATE).read_bytes()
    token = f"{backbone}-{key}-{'ft' if activations else 'head'}-{hashlib.sha256(template).hexdigest()[:8]}"
    return {"token": token, "key": key, "backbone": backbone, "table": prep.table,
            "meta": {"key": key, "backbone": backbone, "data_dir": str(prep.data_dir), "kind": prep.kind,
                     "notes": prep.notes, "dataset": prep.dataset.record()},
            "features": cache.features_path.read_bytes(),
            "activations": Path(prep.features.activations).read_bytes() if activations else None,
            "template": template}


def unpack(shared: dict, base: Path) -> Path:
    """Write the bundle into a folder of this worker, once (the next executions find it there)."""
    folder = base / f"lionpoc-{shared['token']}"
    if (folder / "ready").is_file():
        return folder
    staging = Path(tempfile.mkdtemp(prefix=".lionpoc-unpack-", dir=base))
    cache = features.FeatureCache(staging / "cache", shared["backbone"], shared["key"])
    cache.folder.mkdir()
    cache.features_path.write_bytes(shared["features"])
    if shared["activations"] is not None:
        cache.activations_path.write_bytes(shared["activations"])
    shared["table"].to_pickle(staging / "table.pkl")
    (staging / "meta.json").write_text(json.dumps(shared["meta"]), encoding="utf-8")
    (staging / execute.TEMPLATE).parent.mkdir(parents=True)
    (staging / execute.TEMPLATE).write_bytes(shared["template"])
    (staging / "ready").write_text("ok")
    try:
        os.replace(staging, folder)
    except OSError:  # another task of this worker unpacked it first
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def read(folder: Path) -> tuple[dict, pd.DataFrame, features.Features, datasets.DataSet]:
    """What :func:`unpack` wrote: the study's record of its data (``data_dir``, ``kind``, ``notes``), the split
    table, the features and the data set."""
    meta = files.read_json(folder / "meta.json")
    table = pd.read_pickle(folder / "table.pkl")
    found = features.FeatureCache(folder / "cache", meta["backbone"], meta["key"]).read(activations=False)
    return meta, table, found, datasets.from_record(meta["dataset"])
