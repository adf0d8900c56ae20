"""Downloading and extracting, against a local HTTP server that supports resuming (Range)."""
import io
import tarfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lionpoc.data import breeds
from lionpoc.data import download
from lionpoc.errors import LionpocError


class RangeHandler(SimpleHTTPRequestHandler):
    """Serves files, honouring ``Range: bytes=N-`` like the Stanford server; can cut a response short."""

    cut_after = None  # bytes to send before dropping the connection (simulates a broken download)

    def do_GET(self):
        path = self.translate_path(self.path)
        try:
            body = open(path, "rb").read()
        except OSError:
            self.send_error(404)
            return
        start = int(self.headers["Range"].split("=")[1].rstrip("-")) if self.headers.get("Range") else 0
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        chunk = body[start:]
        if RangeHandler.cut_after is not None:
            chunk, RangeHandler.cut_after = chunk[:RangeHandler.cut_after], None
        self.wfile.write(chunk)

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    with tarfile.open(site / "images.tar", "w") as tar:
        for folder in (*breeds.FOLDERS, "n02085620-Chihuahua"):
            for i in range(2):
                payload = f"{folder} {i}".encode() * 500
                info = tarfile.TarInfo(f"Images/{folder}/{breeds.wnid(folder)}_{i}.jpg")
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(RangeHandler, directory=str(site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", site
    httpd.shutdown()


def test_download_resumes_verifies_and_extracts_only_the_15_breeds(server, tmp_path, capsys):
    url, site = server
    data_dir = tmp_path / "raw" / "stanford_dogs"
    RangeHandler.cut_after = 10_000  # the first attempt breaks part-way
    with pytest.raises(LionpocError, match="run the same command again"):
        download.fetch(f"{url}/images.tar", data_dir.parent / "images.tar")
    part = data_dir.parent / "images.tar.part"
    assert part.stat().st_size == 10_000
    import hashlib

    body = (site / "images.tar").read_bytes()
    wrong = {"images.tar": (len(body), "0" * 64)}
    with pytest.raises(LionpocError, match="does not have the official SHA-256"):
        download.download_dataset(data_dir, base_url=url, checksums=wrong)
    with pytest.raises(LionpocError, match="bytes where the official file has"):
        download.download_dataset(data_dir, base_url=url, checksums={"images.tar": (len(body) + 1, "0" * 64)})
    right = {"images.tar": (len(body), hashlib.sha256(body).hexdigest())}
    download.download_dataset(data_dir, base_url=url, checksums=right)
    assert (data_dir.parent / "images.tar").read_bytes() == body
    assert sorted(p.name for p in data_dir.iterdir() if p.name != "lists") == sorted(breeds.FOLDERS)
    assert len(list((data_dir / "n02111889-Samoyed").iterdir())) == 2
    assert "lists" in capsys.readouterr().out  # lists.tar absent on this server: a note, not a failure
    download.download_dataset(data_dir, base_url=url, checksums=right)
    assert "nothing to download" in capsys.readouterr().out


def test_offline_gives_one_sentence_with_what_to_download(tmp_path):
    data_dir = tmp_path / "elsewhere" / "dogs"
    with pytest.raises(LionpocError, match=r"cannot download http://127\.0\.0\.1:9/images\.tar .*put it at") as info:
        download.download_dataset(data_dir, base_url="http://127.0.0.1:9")
    assert f"into {data_dir} yourself" in str(info.value)  # the folder the user asked for


def test_the_official_checksums_are_the_published_ones():
    assert download.CHECKSUMS["images.tar"][0] == 793_579_520
    assert download.CHECKSUMS["images.tar"][1].startswith("a443fc2f")


def test_a_truncated_archive_is_refused(tmp_path, server):
    _, site = server
    broken = tmp_path / "images.tar"
    broken.write_bytes((site / "images.tar").read_bytes()[:5000])
    with pytest.raises(LionpocError, match="not a complete tar archive|does not hold"):
        download.verify_archive(broken)
