"""Pictures of a rendered report's pages for the README: page 1 and the first page of the results.

    python scripts/readme_pages.py _output/report/index.pdf          # writes docs/pages/*.png

Each page is drawn by poppler's pdftoppm, reduced to a palette, and made smaller until it weighs at most
200 KiB, so that the README shows what the tool makes before anyone runs it. Run it again after a render
to remake them (the README's pictures come from the pretrained MobileNetV2 study, the regime users see).
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

LIMIT = 200 * 1024
# The results chapter's heading as the PDF shows it (its number, then its title from report/index.qmd), alone on
# its line; the table of contents writes the same words followed by dots and a page number.
RESULTS_HEADING = re.compile(r"^\s*\d+\s+Résultats\s*$", re.M)


def page_texts(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")


def results_page(pdf: Path) -> int:
    """The page (1-based) where the results chapter starts."""
    pages = page_texts(pdf)
    hits = [i + 1 for i, text in enumerate(pages) if RESULTS_HEADING.search(text)]
    return hits[0] if hits else 2


def draw(pdf: Path, page: int, target: Path) -> int:
    """``page`` as a PNG of at most ``LIMIT`` bytes; returns the resolution used."""
    with tempfile.TemporaryDirectory() as tmp:
        for dpi in (80, 70, 60, 50, 40):
            stem = Path(tmp) / f"p{dpi}"
            subprocess.run(["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), "-png", "-singlefile",
                            str(pdf), str(stem)], check=True)
            image = Image.open(f"{stem}.png").convert("RGB").quantize(colors=64, dither=Image.Dither.NONE)
            out = Path(tmp) / "out.png"
            image.save(out, optimize=True)
            if out.stat().st_size <= LIMIT:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(out, target)
                return dpi
    raise SystemExit(f"page {page} stays over {LIMIT // 1024} KiB even at 40 dpi")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pdf", type=Path, help="the rendered report (index.pdf)")
    parser.add_argument("--out", type=Path, default=Path("docs/pages"), help="folder of the pictures (docs/pages)")
    args = parser.parse_args(argv)
    if not args.pdf.is_file():
        print(f"readme_pages: {args.pdf} does not exist; render the report first (lionpoc render).", file=sys.stderr)
        return 1
    for name, page in (("page-1.png", 1), ("results.png", results_page(args.pdf))):
        dpi = draw(args.pdf, page, args.out / name)
        print(f"readme_pages: page {page} -> {args.out / name} ({(args.out / name).stat().st_size // 1024} KiB, {dpi} dpi)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
