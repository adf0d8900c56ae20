"""Preprocessing, the frozen backbone, and the on-disk cache of its pooled features.

The frozen base is by far the most expensive part of the study (Xception: about 15 images/s at 299 px
on two CPU cores), and it gives the same output for every optimizer. So it runs once over all the
images; its pooled features (``backbones.spec(name).feature_dim`` per image) are stored in
``data/processed/`` under a key made of the backbone, the file list, the image size and the weights, with
the activations where fine-tuning starts; every run trains its head on them in seconds.
"""
from __future__ import annotations

import hashlib
import json
import socket
import time
import warnings
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError

from lionpoc.errors import LionpocError
from lionpoc.files import atomic_path
from lionpoc.model import backbones

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


def preprocess(batch: np.ndarray, backbone: str = backbones.DEFAULT) -> np.ndarray:
    """The backbone's own preprocessing (Xception and MobileNetV2: pixels scaled from [0, 255] to [-1, 1])."""
    return backbones.spec(backbone).preprocess(batch)


def iter_batches(paths: list[Path], size: int, batch_size: int = 32, notes: list | None = None,
                 backbone: str = backbones.DEFAULT):
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
        batch = preprocess(np.stack(arrays), backbone) if arrays else np.zeros((0, size, size, 3), np.float32)
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
    if path.is_dir():
        raise LionpocError(f"--weights {path} is a folder; pass the weights file itself (a Keras .weights.h5 of "
                           "the backbone without its top), or imagenet, or none.")
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


def ensure_imagenet_weights(backbone: str = backbones.DEFAULT, image_size: int | None = None) -> None:
    """Fail at once, with the way out, when the ImageNet weights are neither cached nor downloadable."""
    spec = backbones.spec(backbone)
    name, url = spec.imagenet_weights(image_size)
    cached = Path.home() / ".keras" / "models" / name
    if not imagenet_file_available(name):
        raise LionpocError(
            f"the ImageNet weights of {spec.label} are not in {cached.parent} and storage.googleapis.com cannot be "
            f"reached: download {url} on a machine with internet and pass --weights <file> "
            f"(or copy it to {cached}).") from None


def check_weights(weights: str, backbone: str = backbones.DEFAULT, image_size: int | None = None) -> None:
    """Fail at once when the weights cannot be had: an absent file, a file of another network, or ImageNet
    offline and not cached. A file is loaded into the backbone (a few seconds) to know that it fits."""
    if weights == "imagenet":
        ensure_imagenet_weights(backbone, image_size)
    elif weights != "none":
        weights_id(weights)
        spec = backbones.spec(backbone)
        backbones.load_file(spec, Path(weights), image_size or spec.default_size)


def build_base(weights: str, image_size: int, backbone: str = backbones.DEFAULT):
    """The backbone without its classifier, global-average pooled, frozen (``trainable = False``)."""
    import keras

    spec = backbones.spec(backbone)
    if weights == "imagenet":
        ensure_imagenet_weights(backbone, image_size)
        base = spec.build("imagenet", image_size)
    else:
        keras.utils.set_random_seed(RANDOM_WEIGHTS_SEED)  # weights=None: the same base in every process
        base = spec.build(None, image_size) if weights == "none" else backbones.load_file(spec, Path(weights),
                                                                                           image_size)
    base.trainable = False
    return base


# ---------------------------------------------------------------------------------- the cache
@dataclass
class Features:
    """Pooled features of every readable image, with the files that could not be read."""

    files: list[str]          # relative paths, in the order of ``values``
    values: np.ndarray        # float32, (len(files), the backbone's feature_dim)
    skipped: list[dict]       # {"file", "reason"} for unreadable files
    key: str
    seconds: float            # time the extraction took (stored in the cache, so known on a cache hit)
    from_cache: bool
    activations: Path | None = None   # where fine-tuning starts (float16 .npy, rows in the order of ``files``)
    backbone: str = backbones.DEFAULT
    pretrained: bool | None = None    # learnt weights (ImageNet or a trained file), not random ones

    def cut(self, rows: list[str]) -> np.ndarray:
        """Cached activations at the fine-tuning cut (Xception: block 13's output) of ``rows`` (file names),
        as float32, read from the memory-mapped cache."""
        if self.activations is None or not Path(self.activations).is_file():
            raise LionpocError("the activations where fine-tuning starts are not cached; run the study again to "
                               "extract them.")
        cached = np.load(self.activations, mmap_mode="r")
        position = {f: i for i, f in enumerate(self.files)}
        return np.asarray(cached[[position[f] for f in rows]], dtype=np.float32)


def cache_key(files: list[str], root: Path, image_size: int, weights: str,
              backbone: str = backbones.DEFAULT) -> str:
    """Hash of what determines the features: backbone, file names and sizes, image size, weights."""
    sizes = [(root / f).stat().st_size for f in files]
    payload = json.dumps({"backbone": backbones.spec(backbone).name, "files": files, "sizes": sizes,
                          "image_size": image_size, "weights": weights_id(weights), "version": 4})
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class FeatureCache:
    """The feature cache of one (backbone, key) in a folder: its two files and how they read and write.

    ``features-<backbone>-<key>.npz`` holds the pooled features (files, values, unreadable files, the pass's
    seconds, whether the weights were learnt); ``activations-<backbone>-<key>.npy`` the float16 activations
    where fine-tuning starts, rows in the same order. The pooled file is written last: it is what says "both
    are there". The local pass and the cluster's bundles (``lionpoc.study.bundle``) both go through here."""

    folder: Path
    backbone: str
    key: str

    @property
    def features_path(self) -> Path:
        return Path(self.folder) / f"features-{self.backbone}-{self.key}.npz"

    @property
    def activations_path(self) -> Path:
        return Path(self.folder) / f"activations-{self.backbone}-{self.key}.npy"

    def exists(self) -> bool:
        return self.features_path.is_file() and self.activations_path.is_file()

    def read(self, activations: bool = True) -> Features:
        """The cached features, checked for shape; raises what a damaged file raises (see ``DAMAGE``).
        ``activations=False``: the activations file may be absent (a cluster's bundle for head training only)."""
        cut = self.activations_path if activations or self.activations_path.is_file() else None
        with np.load(self.features_path, allow_pickle=False) as cached:
            features = Features(list(cached["files"]), cached["values"], json.loads(str(cached["skipped"])),
                                self.key, float(cached["seconds"]), True, cut, self.backbone,
                                bool(cached["pretrained"]))
        if features.values.ndim != 2 or len(features.values) != len(features.files):
            raise ValueError(f"{self.features_path.name} holds {features.values.shape} values for "
                             f"{len(features.files)} images")
        rows = np.load(cut, mmap_mode="r").shape[0] if cut is not None else len(features.files)
        if rows != len(features.files):
            raise ValueError(f"{self.activations_path.name} holds {rows} rows for {len(features.files)} images")
        return features

    def write(self, features: Features, activations: np.ndarray) -> None:
        """Both files, atomically, the activations first."""
        with atomic_path(self.activations_path) as tmp:
            with open(tmp, "wb") as handle:
                np.save(handle, activations)
        with atomic_path(self.features_path) as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, files=np.array(features.files), values=features.values,
                         skipped=json.dumps(features.skipped), seconds=features.seconds, backbone=self.backbone,
                         pretrained=bool(features.pretrained))
        features.activations = self.activations_path


# What a truncated or emptied cache file raises when read (a full disk, a copy cut short).
DAMAGE = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error)


def load_or_extract(files: list[str], root: Path, image_size: int, weights: str, cache_dir: Path,
                    batch_size: int = 32, log=print, backbone: str = backbones.DEFAULT, extractor=None) -> Features:
    """Features of ``files`` (relative to ``root``) from the cache, or computed once and cached.

    ``extractor`` computes them when they are not cached (default :func:`extract`, on this machine;
    ``lionpoc.study.cluster`` passes one that runs the pass in shards on a Dask cluster).
    """
    key = cache_key(files, root, image_size, weights, backbone)
    cache = FeatureCache(Path(cache_dir), backbone, key)
    path = cache.features_path
    if cache.exists():
        try:
            features = cache.read()
            log(f"features: {len(features.files)} images read from the cache {path}")
            for item in features.skipped:  # said again on every study, not only the one that made the cache
                log(f"features: skipped unreadable file {item['file']} ({item['reason']}; noted when the cache was made)")
            return features
        except DAMAGE as exc:  # a damaged cache is rebuilt, never fatal
            log(f"features: cache {path} is unreadable ({type(exc).__name__}: {str(exc)[:160]}); extracting again")
    others = sorted(Path(cache_dir).glob("features-*.npz")) if Path(cache_dir).is_dir() else []
    if others:
        log(f"features: no cache for this backbone/files/size/weights (key {key}); {len(others)} other cache(s) "
            "kept")
    features, activations = (extractor or extract)(files, root, image_size, weights, batch_size, log, backbone)
    features.key = key
    cache.write(features, activations)
    log(f"features: cached in {path} and {cache.activations_path.name} ({activations.nbytes / 2**20:.0f} MiB of "
        f"activations where fine-tuning starts, the input of {backbones.spec(backbone).fine_tune_layers[0]})")
    return features


def extract(files: list[str], root: Path, image_size: int, weights: str, batch_size: int = 32,
            log=print, backbone: str = backbones.DEFAULT, sources: list | None = None) -> tuple[Features, np.ndarray]:
    """Run the frozen base once over every file: pooled features and the activations at the fine-tuning
    cut (float16). Unreadable files are skipped and listed. ``sources`` (file objects, in the order of
    ``files``) replaces reading ``root / file``: a cluster worker decodes the bytes it was sent.
    """
    import keras
    from tqdm import tqdm

    spec = backbones.spec(backbone)
    base = build_base(weights, image_size, backbone)
    both = keras.Model(base.input, [spec.cut(base), base.output], name=f"{spec.name}_two_outputs")
    pretrained = backbones.is_pretrained(weights) if weights in ("imagenet", "none") \
        else backbones.trained_statistics(base)
    paths = sources if sources is not None else [root / f for f in files]
    kept, chunks, blocks, skipped, notes = [], [], [], [], []
    start = time.perf_counter()
    with tqdm(total=len(paths), unit="img", desc=f"{spec.label} features ({image_size} px)",
              disable=sources is not None) as bar:
        for ok, batch, failed in iter_batches(paths, image_size, batch_size, notes, backbone):
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
    values = np.concatenate(chunks) if chunks else np.zeros((0, spec.feature_dim), np.float32)
    shape = tuple(int(d) for d in spec.cut(base).shape[1:])
    activations = np.concatenate(blocks) if blocks else np.zeros((0, *shape), np.float16)
    log(f"features: {len(kept)} images in {seconds:.1f} s ({len(kept) / max(seconds, 1e-9):.1f} images/s)")
    return (Features([files[i] for i in kept], values, skipped, "", seconds, False, None, spec.name, pretrained),
            activations)


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


def extract_shard(names: list[str], blobs: list[bytes], image_size: int, weights: str, batch_size: int = 32,
                  backbone: str = backbones.DEFAULT) -> dict:
    """The pass over one shard, from the images' bytes (what a cluster worker runs; no file system needed).

    Returns the kept names, their pooled features and cut activations, the skipped files and notes.
    """
    import io

    sources = []
    for name, blob in zip(names, blobs):
        source = io.BytesIO(blob)
        source.name = name  # for the notes on very large images
        sources.append(source)
    notes: list[str] = []
    keep_notes = lambda line: notes.append(line) if line.startswith("features: note:") else None  # noqa: E731
    found, activations = extract(names, Path("."), image_size, weights, batch_size, keep_notes, backbone, sources)
    return {"files": found.files, "values": found.values, "activations": activations, "skipped": found.skipped,
            "notes": notes, "seconds": found.seconds, "backbone": found.backbone, "pretrained": found.pretrained}


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
    return (Features(kept, values, skipped, "", sum(part["seconds"] for part in parts), False, None,
                     parts[0]["backbone"], parts[0]["pretrained"]), activations)
