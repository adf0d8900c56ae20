"""How much of the report's French lives in the documents (``report/*.qmd``, ``report/**/*.md``) and how much in
Python string literals under ``src/``.

A Python literal counts as French when it holds a French word or letter (``FRENCH``); docstrings and comments do
not count. A document's French is its prose: every line outside YAML front matter, code cells and raw blocks.
An f-string counts its literal parts only.

    python tests/french_share.py        # prints both counts and the documents' share
"""
from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FRENCH = re.compile(r"[àâçéèêëîïôûùœÀÉÈ«»]|\b(?:le|la|les|des|du|une|est|sont|pour|avec|sur|dans|qui|que|ne|pas|"
                    r"et|ou|aucun|aucune|cette|ces|sa|son|ses|leur|leurs|chaque|fait|d'|l'|qu')\b", re.I)


def python_french(folder: Path = ROOT / "src") -> int:
    total = 0
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
                first = node.body[0]
                if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                    docstrings.add(id(first.value))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                if FRENCH.search(node.value):
                    total += len(node.value)
    return total


def document_french(folder: Path = ROOT / "report") -> int:
    total = 0
    for path in sorted([*folder.glob("*.qmd"), *folder.rglob("*.md")]):
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)
        text = re.sub(r"^```.*?^```\n?", "", text, flags=re.S | re.M)
        text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
        total += sum(len(line) for line in text.splitlines() if FRENCH.search(line))
    return total


def main() -> None:
    py, docs = python_french(), document_french()
    print(f"French in Python string literals (src/): {py} characters")
    print(f"French in report/*.qmd and report/**/*.md: {docs} characters")
    print(f"documents' share: {docs / (py + docs):.0%}")


if __name__ == "__main__":
    sys.exit(main())
