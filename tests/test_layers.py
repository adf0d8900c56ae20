"""The package's imports point down (data -> model -> study -> report -> workflow/cli) and never go in a circle.

Every import is counted, those inside functions and under ``TYPE_CHECKING`` included: a deferred import is
still a dependency. Top-level modules (``files``, ``project``, ``figures``, ...) are below the layers, except
the entry points, which sit above them all.
"""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "lionpoc"
LAYERS = {"data": 0, "model": 1, "study": 2, "report": 3}
ENTRY_POINTS = {"lionpoc.cli", "lionpoc.workflow", "lionpoc.bench", "lionpoc.__main__"}


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ("lionpoc",) + path.relative_to(PACKAGE).with_suffix("").parts
        name = ".".join(parts).removesuffix(".__init__")
        found[name] = path
    return found


def imports(name: str, path: Path, known: dict) -> set[str]:
    """The package's modules that ``name`` imports (``from x import y`` counts y when y is a module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name and target.startswith("lionpoc"):
                found.add(target)
    return found


def level(name: str) -> int:
    """The layer of a module: its sub-package's, -1 for the shared modules below, 9 for the entry points."""
    if name in ENTRY_POINTS:
        return 9
    parts = name.split(".")
    return LAYERS.get(parts[1], -1) if len(parts) > 2 or parts[-1] in LAYERS else -1


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_a_layer_above_its_own():
    edges = graph()
    upward = [f"{a} -> {b}" for a, targets in edges.items() for b in sorted(targets)
              if a.count(".") and level(b) > level(a) and not b.endswith("__init__")
              and not (b == "lionpoc" or level(b) == 9 and a in ENTRY_POINTS)]
    assert upward == []


def test_no_imports_go_in_a_circle():
    assert cycles(graph()) == []


def test_the_walk_sees_what_it_must():
    """The checks above can fail: the graph knows a real downward import, and a circle is found when there is one."""
    edges = graph()
    assert "lionpoc.study.config" in edges["lionpoc.study.runs"]
    assert "lionpoc.model.features" in edges["lionpoc.study.bundle"]
    assert level("lionpoc.report.render") > level("lionpoc.study.pipeline") > level("lionpoc.model.head")
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
