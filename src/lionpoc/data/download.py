"""Downloading the official Stanford Dogs archive and extracting the 15 breeds.

The archive (about 750 MB) is fetched once, resumably (an interrupted download continues where
it stopped), checked to be a complete, readable tar holding the 15 breeds, and only those folders
are extracted. The official train/test lists come from the small ``lists.tar``.
"""
from __future__ import annotations

import io
import shutil
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from lionpoc.data import breeds
from lionpoc.errors import LionpocError
from lionpoc.files import atomic_write_text

BASE_URL = "http://vision.stanford.edu/aditya86/ImageNetDogs"
IMAGES_TAR = "images.tar"
LISTS_TAR = "lists.tar"
TIMEOUT = 30
# Size and SHA-256 of the official files, as recorded by TensorFlow Datasets (stanford_dogs).
CHECKSUMS = {IMAGES_TAR: (793_579_520, "a443fc2f9a851aa1a7b8e4fa4af94b8459fce2c9f5a2f4dd4669cf9673a4ec58"),
             LISTS_TAR: (481_280, "34b47cacd9a98b5d150e084f24d29391c084c55272295ec65c85651bc35f4d6c")}


def download_dataset(data_dir: Path, base_url: str = BASE_URL, keep_archive: bool = True,
                     checksums: dict | None = CHECKSUMS) -> Path:
    """Make ``data_dir`` hold ``<breed folder>/*.jpg`` for the 15 breeds and the official lists.

    A ``data_dir`` that already holds the 15 folders is left as it is. Each archive is checked
    against ``checksums`` (size and SHA-256; ``None`` skips the check, for test servers).
    """
    data_dir = Path(data_dir)
    if all((data_dir / folder).is_dir() for folder in breeds.FOLDERS):
        print(f"{data_dir} already holds the 15 breed folders; nothing to download.")
        return data_dir
    archive_dir = data_dir.parent
    archive = archive_dir / IMAGES_TAR
    if not _is_complete_tar(archive):
        fetch(f"{base_url}/{IMAGES_TAR}", archive, data_dir)
    verify_checksum(archive, (checksums or {}).get(IMAGES_TAR))
    verify_archive(archive)
    extract_breeds(archive, data_dir)
    lists = archive_dir / LISTS_TAR
    try:
        if not _is_complete_tar(lists):
            fetch(f"{base_url}/{LISTS_TAR}", lists)
        verify_checksum(lists, (checksums or {}).get(LISTS_TAR))
        write_official_lists(lists, data_dir / "lists")
    except LionpocError as exc:  # the lists are only needed for --split official
        print(f"note: official lists not available ({exc}); the default random split does not need them.")
    if not keep_archive:
        archive.unlink()
    return data_dir


def fetch(url: str, dest: Path, data_dir: Path | None = None) -> Path:
    """Download ``url`` to ``dest`` with a progress bar, resuming a previous partial download."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    done = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={done}-"} if done else {})
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and done:  # asked past the end: the part file is already complete
            part.replace(dest)
            return dest
        raise LionpocError(_offline_message(url, dest, f"the server answered HTTP {exc.code}", data_dir)) from None
    except (urllib.error.URLError, OSError) as exc:
        raise LionpocError(_offline_message(url, dest, getattr(exc, "reason", exc), data_dir)) from None
    with response:
        if response.status != 206:  # the server ignored the range: start again from zero
            done = 0
        length = response.headers.get("Content-Length")
        total = done + int(length) if length is not None else None
        with open(part, "ab" if done else "wb") as out, tqdm(
                total=total, initial=done, unit="B", unit_scale=True, desc=dest.name) as bar:
            try:
                while chunk := response.read(1 << 20):
                    out.write(chunk)
                    bar.update(len(chunk))
            except (OSError, urllib.error.URLError) as exc:
                raise LionpocError(f"the download of {url} stopped ({exc}); run the same command again "
                                   "to resume it.") from None
    if total is not None and part.stat().st_size != total:
        raise LionpocError(f"the download of {url} is incomplete ({part.stat().st_size} of {total} bytes); "
                           "run the same command again to resume it.")
    part.replace(dest)
    return dest


def verify_checksum(path: Path, expected: tuple[int, str] | None) -> None:
    """Refuse a file whose size or SHA-256 differs from the official one (a damaged or foreign file)."""
    if expected is None:
        return
    import hashlib

    size, sha256 = expected
    actual = path.stat().st_size
    if actual != size:
        raise LionpocError(f"{path} has {actual:,} bytes where the official file has {size:,}; delete it and run "
                           "`lionpoc download` again.")
    digest = hashlib.sha256()
    with open(path, "rb") as handle, tqdm(total=size, unit="B", unit_scale=True, desc=f"checking {path.name}") as bar:
        while chunk := handle.read(1 << 22):
            digest.update(chunk)
            bar.update(len(chunk))
    if digest.hexdigest() != sha256:
        raise LionpocError(f"{path} does not have the official SHA-256 (the file is damaged); delete it and run "
                           "`lionpoc download` again.")


def verify_archive(archive: Path) -> None:
    """Read the whole tar (catches truncation) and check it holds the 15 breed folders."""
    try:
        with tarfile.open(archive) as tar:
            folders = {Path(m.name).parts[1] for m in tar if m.isfile() and len(Path(m.name).parts) == 3}
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise LionpocError(f"{archive} is not a complete tar archive ({exc}); delete it and download again.") from None
    missing = [f for f in breeds.FOLDERS if f not in folders]
    if missing:
        raise LionpocError(f"{archive} does not hold the breed folders {', '.join(missing)}; "
                           f"is it the Stanford Dogs {IMAGES_TAR}?")


def extract_breeds(archive: Path, data_dir: Path) -> None:
    """Extract ``Images/<folder>/`` of the 15 breeds into ``data_dir/<folder>/`` (atomically per folder)."""
    staging = data_dir.with_name(data_dir.name + ".extracting")
    shutil.rmtree(staging, ignore_errors=True)
    wanted = {f"Images/{folder}/" for folder in breeds.FOLDERS}
    with tarfile.open(archive) as tar:
        members = [m for m in tar if m.isfile() and any(m.name.startswith(w) for w in wanted)]
        for member in tqdm(members, desc="extracting", unit="file"):
            tar.extract(member, staging, filter="data")
    data_dir.mkdir(parents=True, exist_ok=True)
    for folder in breeds.FOLDERS:
        target = data_dir / folder
        if target.exists():
            shutil.rmtree(target)
        (staging / "Images" / folder).rename(target)
    shutil.rmtree(staging, ignore_errors=True)


def write_official_lists(lists_tar: Path, out: Path) -> None:
    """Write ``train_list_15.txt`` and ``test_list_15.txt`` from the official ``lists.tar`` (.mat files)."""
    from scipy.io import loadmat

    with tarfile.open(lists_tar) as tar:
        for part in ("train", "test"):
            member = tar.extractfile(f"{part}_list.mat")
            if member is None:
                raise LionpocError(f"{lists_tar} has no {part}_list.mat.")
            names = [str(entry[0][0]) for entry in loadmat(io.BytesIO(member.read()))["file_list"]]
            keep = [n for n in names if n.split("/", 1)[0] in breeds.FOLDERS]
            atomic_write_text(out / f"{part}_list_15.txt", "\n".join(keep) + "\n")


def _is_complete_tar(path: Path) -> bool:
    if not path.is_file():
        return False
    try:
        with tarfile.open(path) as tar:
            for _ in tar:
                pass
        return True
    except (tarfile.TarError, OSError, EOFError):
        return False


def _offline_message(url: str, dest: Path, reason, data_dir: Path | None = None) -> str:
    target = data_dir or dest.parent / "stanford_dogs"
    return (f"cannot download {url} ({reason}). On a machine with internet, download that file, put it at "
            f"{dest} and run the same command again; or extract the 15 breed folders of its Images/ folder "
            f"into {target} yourself.")
