"""The layout's promises: no module too long to read, no import cycle between modules."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("atlas", "catalog", "assessments", "crawlers", "inference")
MAX_LINES = 700
# The probe registry is one list of probes, each a few lines; it may be longer.
LONG_ALLOWED = {"inference/probes.py"}


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT)
            if "migrations" in relative.parts:
                continue
            name = ".".join(relative.with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def _imports(path: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """The project modules ``path`` imports, at any depth (a lazy import is still an import)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            candidates = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for candidate in candidates:
            # "from catalog import selectors" names a module; "from catalog.models import X"
            # names a module's attribute: take the longest prefix that is a module.
            while candidate and candidate not in modules:
                candidate = candidate.rpartition(".")[0]
            if candidate and candidate != name:
                targets.add(candidate)
    return targets


def _queues_own_tasks(importer: str, target: str) -> bool:
    """A package's services queueing its own tasks, which call the services back: allowed."""
    package = importer.split(".")[0]
    return target == f"{package}.tasks"


def test_no_module_is_longer_than_a_newcomer_can_read():
    lengths = {
        str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
        for path in _modules().values()
    }
    too_long = {p: n for p, n in lengths.items() if n > MAX_LINES and p not in LONG_ALLOWED}
    assert too_long == {}


def test_no_two_modules_import_each_other_through_any_path():
    modules = _modules()
    graph = {
        name: {t for t in _imports(path, name, modules) if not _queues_own_tasks(name, t)}
        for name, path in modules.items()
    }
    # Tarjan's strongly connected components: any component of two or more is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for name in graph:
        if name not in index:
            visit(name)
    assert cycles == []


def test_the_inference_tester_is_an_app_of_its_own():
    from django.apps import apps

    config = apps.get_app_config("inference")
    assert config.name == "inference"
    assert not any(p.name == "inference" for p in (ROOT / "crawlers").iterdir())
