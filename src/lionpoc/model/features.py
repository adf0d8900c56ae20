"""Preprocessing, the frozen Xception base, and the on-disk cache of its pooled features.

The frozen base is by far the most expensive part of the study (about 15 images/s at 299 px on
two CPU cores), and it gives the same output for every optimizer. So it runs once over all the
images; its 2,048 pooled features per image are stored in ``data/processed/`` under a key made of
the file list, the image size and the weights, and every run trains its head on them in seconds.
"""
from __future__ import annotations

import hashlib
import json
import socket
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError

from lionpoc.errors import LionpocError
from lionpoc.files import atomic_path

FEATURE_DIM = 2048
IMAGENET_WEIGHTS_FILE = "xception_weights_tf_dim_ordering_tf_kernels_notop.h5"
IMAGENET_WEIGHTS_URL = ("https://storage.googleapis.com/tensorflow/keras-applications/xception/"
                        + IMAGENET_WEIGHTS_FILE)
RANDOM_WEIGHTS_SEED = 0  # weights=None must still give the same base in every process


# ---------------------------------------------------------------------------------- preprocessing
def load_image(path: str | Path, size: int, notes: list | None = None) -> np.ndarray:
    """Decode an image file to a ``size x size x 3`` float32 array in [0, 255] (RGB, bilinear resize).

    A very large image (more pixels than Pillow's bomb limit, but less than twice it) is decoded and
    named in ``notes``; a larger one raises ``Image.DecompressionBombError`` and is skipped by the caller.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", Image.DecompressionBombWarning)
        with Image.open(path) as image:
            if caught and notes is not None:
                notes.append(f"{Path(getattr(path, 'name', path)).name} is very large ({image.width} x {image.height} pixels); decoded anyway")
            image = image.convert("RGB").resize((size, size), Image.BILINEAR)
            return np.asarray(image, dtype=np.float32)


def preprocess(batch: np.ndarray) -> np.ndarray:
    """Xception's own preprocessing: pixels scaled from [0, 255] to [-1, 1]."""
    from keras.applications.xception import preprocess_input

    return preprocess_input(batch.copy())


def iter_batches(paths: list[Path], size: int, batch_size: int = 32, notes: list | None = None):
    """Yield ``(positions, preprocessed batch, failures)``; decoding runs in threads ahead of the model.

    ``failures`` lists ``(position, reason)`` for files that cannot be decoded (corrupt, truncated,
    empty, not an image, a decompression bomb): they are skipped, not fatal. ``notes`` collects the
    very large images that were decoded anyway.
    """
    def decode(chunk):
        ok, arrays, failed = [], [], []
        for pos in chunk:
            try:
                arrays.append(load_image(paths[pos], size, notes))
                ok.append(pos)
            except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError) as exc:
                failed.append((pos, f"{type(exc).__name__}: {str(exc)[:200]}"))
        batch = preprocess(np.stack(arrays)) if arrays else np.zeros((0, size, size, 3), np.float32)
        return ok, batch, failed

    chunks = [list(range(i, min(i + batch_size, len(paths)))) for i in range(0, len(paths), batch_size)]
    # Pillow releases the GIL while decoding, so two threads keep the next batch ready.
    with ThreadPoolExecutor(max_workers=2) as pool:
        yield from pool.map(decode, chunks)


# ---------------------------------------------------------------------------------- the base
def weights_id(weights: str) -> str:
    """A stable name for the weights, part of the cache key: ``imagenet``, ``none`` or ``file:<sha256>``."""
    if weights in ("imagenet", "none"):
        return weights
    path = Path(weights)
    if not path.is_file():
        raise LionpocError(f"weights file {path} does not exist; pass --weights imagenet, none, or an existing file.")
    return "file:" + hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def imagenet_file_available(name: str) -> bool:
    """True when Keras has ``name`` in its cache or can reach the server it downloads it from."""
    if (Path.home() / ".keras" / "models" / name).is_file():
        return True
    try:
        socket.create_connection(("storage.googleapis.com", 443), timeout=5).close()
        return True
    except OSError:
        return False


def ensure_imagenet_weights() -> None:
    """Fail at once, with the way out, when the ImageNet weights are neither cached nor downloadable."""
    cached = Path.home() / ".keras" / "models" / IMAGENET_WEIGHTS_FILE
    if not imagenet_file_available(IMAGENET_WEIGHTS_FILE):
        raise LionpocError(
            f"the ImageNet weights of Xception are not in {cached.parent} and storage.googleapis.com cannot be "
            f"reached: download {IMAGENET_WEIGHTS_URL} on a machine with internet and pass --weights <file> "
            f"(or copy it to {cached}).") from None


def check_weights(weights: str) -> None:
    """Fail at once when the weights cannot be had: an absent file, or ImageNet offline and not cached."""
    if weights == "imagenet":
        ensure_imagenet_weights()
    elif weights != "none":
        weights_id(weights)


def build_base(weights: str, image_size: int):
    """Xception without its classifier, global-average pooled, frozen (``trainable = False``)."""
    import keras

    if weights == "imagenet":
        ensure_imagenet_weights()
    if weights != "imagenet":
        keras.utils.set_random_seed(RANDOM_WEIGHTS_SEED)
    base = keras.applications.Xception(include_top=False, weights="imagenet" if weights == "imagenet" else None,
                                       input_shape=(image_size, image_size, 3), pooling="avg")
    if weights not in ("imagenet", "none"):
        load_weights_file(base, Path(weights))
    base.trainable = False
    return base


def load_weights_file(model, path: Path) -> None:
    if not path.is_file():
        raise LionpocError(f"weights file {path} does not exist.")
    try:
        model.load_weights(path)
    except Exception as exc:  # Keras raises ValueError, OSError or h5py errors depending on the file
        raise LionpocError(f"{path} is not a Keras weights file for Xception without its top "
                           f"({type(exc).__name__}: {str(exc).splitlines()[0][:200]}).") from None


# ---------------------------------------------------------------------------------- the cache
@dataclass
class Features:
    """Pooled features of every readable image, with the files that could not be read."""

    files: list[str]          # relative paths, in the order of ``values``
    values: np.ndarray        # float32, (len(files), 2048)
    skipped: list[dict]       # {"file", "reason"} for unreadable files
    key: str
    seconds: float            # time the extraction took (stored in the cache, so known on a cache hit)
    from_cache: bool
    activations: Path | None = None   # block-13 outputs (float16 .npy, rows in the order of ``files``)

    def block13(self, rows: list[str]) -> np.ndarray:
        """Block-13 activations of ``rows`` (file names), as float32, read from the memory-mapped cache."""
        if self.activations is None or not Path(self.activations).is_file():
            raise LionpocError("the block-13 activations are not cached; run the study again to extract them.")
        cached = np.load(self.activations, mmap_mode="r")
        position = {f: i for i, f in enumerate(self.files)}
        return np.asarray(cached[[position[f] for f in rows]], dtype=np.float32)


def cache_key(files: list[str], root: Path, image_size: int, weights: str) -> str:
    """Hash of what determines the features: file names and sizes, image size, weights."""
    sizes = [(root / f).stat().st_size for f in files]
    payload = json.dumps({"files": files, "sizes": sizes, "image_size": image_size,
                          "weights": weights_id(weights), "version": 3})
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def load_or_extract(files: list[str], root: Path, image_size: int, weights: str, cache_dir: Path,
                    batch_size: int = 32, log=print, extractor=None) -> Features:
    """Features of ``files`` (relative to ``root``) from the cache, or computed once and cached.

    ``extractor`` computes them when they are not cached (default :func:`extract`, on this machine;
    ``lionpoc.study.cluster`` passes one that runs the pass in shards on a Dask cluster).
    """
    key = cache_key(files, root, image_size, weights)
    path = Path(cache_dir) / f"features-{key}.npz"
    block13 = Path(cache_dir) / f"activations-{key}.npy"
    if path.is_file() and block13.is_file():
        try:
            with np.load(path, allow_pickle=False) as cached:
                features = Features(list(cached["files"]), cached["values"], json.loads(str(cached["skipped"])),
                                    key, float(cached["seconds"]), True, block13)
            shape = np.load(block13, mmap_mode="r").shape
            if shape[0] != len(features.files):
                raise ValueError(f"{block13.name} holds {shape[0]} rows for {len(features.files)} images")
            log(f"features: {len(features.files)} images read from the cache {path}")
            for item in features.skipped:  # said again on every study, not only the one that made the cache
                log(f"features: skipped unreadable file {item['file']} ({item['reason']}; noted when the cache was made)")
            return features
        except (OSError, ValueError, KeyError) as exc:
            log(f"features: cache {path} is unreadable ({exc}); extracting again")
    others = sorted(Path(cache_dir).glob("features-*.npz")) if Path(cache_dir).is_dir() else []
    if others:
        log(f"features: no cache for these files/size/weights (key {key}); {len(others)} other cache(s) kept")
    features, activations = (extractor or extract)(files, root, image_size, weights, batch_size, log)
    features.key = key
    with atomic_path(block13) as tmp:  # first: the pooled cache is what says "both are there"
        with open(tmp, "wb") as handle:
            np.save(handle, activations)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, files=np.array(features.files), values=features.values,
                     skipped=json.dumps(features.skipped), seconds=features.seconds)
    features.activations = block13
    log(f"features: cached in {path} and {block13.name} ({activations.nbytes / 2**20:.0f} MiB of block-13 "
        "activations)")
    return features


def block13_output(base):
    """The tensor that block 14 reads: the last residual ``add`` of block 13."""
    return base.get_layer("block14_sepconv1").input


def extract(files: list[str], root: Path, image_size: int, weights: str, batch_size: int = 32,
            log=print, sources: list | None = None) -> tuple[Features, np.ndarray]:
    """Run the frozen base once over every file: pooled features and block-13 activations (float16).

    Unreadable files are skipped and listed. ``sources`` (file objects, in the order of ``files``)
    replaces reading ``root / file``: a cluster worker decodes the bytes it was sent.
    """
    import keras
    from tqdm import tqdm

    base = build_base(weights, image_size)
    both = keras.Model(base.input, [block13_output(base), base.output], name="xception_two_outputs")
    paths = sources if sources is not None else [root / f for f in files]
    kept, chunks, blocks, skipped, notes = [], [], [], [], []
    start = time.perf_counter()
    with tqdm(total=len(paths), unit="img", desc=f"Xception features ({image_size} px)",
              disable=sources is not None) as bar:
        for ok, batch, failed in iter_batches(paths, image_size, batch_size, notes):
            if len(ok):
                # predict_on_batch runs in inference mode: batch normalisation uses its stored
                # statistics, as a frozen base must.
                block, pooled = both.predict_on_batch(batch)
                chunks.append(np.asarray(pooled, dtype=np.float32))
                blocks.append(np.asarray(block, dtype=np.float16))
                kept.extend(ok)
            skipped.extend({"file": files[pos], "reason": reason} for pos, reason in failed)
            bar.update(len(ok) + len(failed))
    seconds = time.perf_counter() - start
    for item in skipped:
        log(f"features: skipped unreadable file {item['file']} ({item['reason']})")
    for note in notes:
        log(f"features: note: {note}")
    values = np.concatenate(chunks) if chunks else np.zeros((0, FEATURE_DIM), np.float32)
    shape = tuple(int(d) for d in block13_output(base).shape[1:])
    activations = np.concatenate(blocks) if blocks else np.zeros((0, *shape), np.float16)
    log(f"features: {len(kept)} images in {seconds:.1f} s ({len(kept) / max(seconds, 1e-9):.1f} images/s)")
    return Features([files[i] for i in kept], values, skipped, "", seconds, False), activations


def align(features: Features, table: pd.DataFrame) -> np.ndarray:
    """Rows of ``features.values`` in the order of ``table['file']``."""
    position = {f: i for i, f in enumerate(features.files)}
    return features.values[[position[f] for f in table["file"]]]


# ---------------------------------------------------------------------------------- shards (a cluster)
def shards(count: int, workers: int, batch_size: int) -> list[range]:
    """Split ``count`` images into at most ``workers`` contiguous shards whose bounds fall on whole batches,
    so that every batch the base sees is the batch a one-machine pass would see."""
    batches = -(-count // batch_size)
    per = -(-batches // max(1, min(workers, batches or 1)))
    return [range(i * batch_size, min(count, (i + per) * batch_size)) for i in range(0, batches, per)]


def extract_shard(names: list[str], blobs: list[bytes], image_size: int, weights: str,
                  batch_size: int = 32) -> dict:
    """The pass over one shard, from the images' bytes (what a cluster worker runs; no file system needed).

    Returns the kept names, their pooled features and block-13 activations, the skipped files and notes.
    """
    import io

    sources = []
    for name, blob in zip(names, blobs):
        source = io.BytesIO(blob)
        source.name = name  # for the notes on very large images
        sources.append(source)
    notes: list[str] = []
    keep_notes = lambda line: notes.append(line) if line.startswith("features: note:") else None  # noqa: E731
    found, activations = extract(names, Path("."), image_size, weights, batch_size, log=keep_notes, sources=sources)
    return {"files": found.files, "values": found.values, "activations": activations, "skipped": found.skipped,
            "notes": notes, "seconds": found.seconds}


def assemble(parts: list[dict], log=print) -> tuple[Features, np.ndarray]:
    """The shards' results put back together in file order: what :func:`extract` returns for all the files."""
    skipped = [item for part in parts for item in part["skipped"]]
    for item in skipped:
        log(f"features: skipped unreadable file {item['file']} ({item['reason']})")
    for note in (note for part in parts for note in part["notes"]):
        log(note)
    kept = [f for part in parts for f in part["files"]]
    values = np.concatenate([part["values"] for part in parts])
    activations = np.concatenate([part["activations"] for part in parts])
    return Features(kept, values, skipped, "", sum(part["seconds"] for part in parts), False), activations
