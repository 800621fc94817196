"""The rooms of `server/` import only downward and never in a circle.

From the top: the front (`server.front`) may import the app factory (`server`), which may import
the protocol and the pages (side by side, never each other), which may import the stores,
which may import only the base modules at the top of `server` (`config`, `errors`,
`accesslog`, `structured_log`, `problem_details`, `public_base`), which import no other part
of `server` but each other. Every import counts, also those made inside a function, since they
run all the same. A short AST walk instead of import-linter: the rule is five lines of table,
and a test must show that it catches a break.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Room → rank: a module may import its own room or a room of lower rank; same rank, other room
# (protocol and pages) is forbidden.
RANKS = {"base": 0, "stores": 1, "protocol": 2, "pages": 2, "app": 3, "front": 4}
BASE_MODULES = {
    "server.config",
    "server.errors",
    "server.accesslog",
    "server.structured_log",
    "server.problem_details",
    "server.public_base",
}
WEB = {"flask", "werkzeug", "jinja2", "flask_babel"}


def room_of(module: str) -> str:
    if module == "server":
        return "app"
    if module in BASE_MODULES:
        return "base"
    room = module.split(".")[1]
    if room not in RANKS:
        raise AssertionError(f"{module} is in no room: add it to tests/test_layers.py")
    return room


def module_names(root: Path) -> dict[str, Path]:
    """Every module of `server` under `root`, by dotted name."""
    names: dict[str, Path] = {}
    for path in sorted((root / "server").rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of `server` that `name` imports anywhere in its text."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in known else base)
    return {module for module in found if module in known and module != name}


def import_graph(root: Path) -> dict[str, set[str]]:
    names = module_names(root)
    return {name: imported_modules(name, path, set(names)) for name, path in names.items()}


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    broken = []
    for importer, targets in sorted(graph.items()):
        for target in sorted(targets):
            here, there = room_of(importer), room_of(target)
            if here != there and RANKS[there] >= RANKS[here]:
                broken.append(f"{importer} ({here}) imports {target} ({there})")
    return broken


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each import circle once, as the path from its first module back to it."""
    found: list[list[str]] = []
    seen: set[frozenset[str]] = set()

    def walk(start: str, node: str, trail: list[str]) -> None:
        for target in sorted(graph[node]):
            if target == start:
                if frozenset(trail) not in seen:
                    seen.add(frozenset(trail))
                    found.append([*trail, start])
            elif target not in trail and target > start:
                walk(start, target, [*trail, target])

    for start in sorted(graph):
        walk(start, start, [start])
    return found


def test_no_import_runs_upward() -> None:
    assert upward_imports(import_graph(ROOT)) == []


def test_no_import_runs_in_a_circle() -> None:
    assert circles(import_graph(ROOT)) == []


def test_every_room_says_what_it_owns_and_may_import() -> None:
    missing = [
        str(init.relative_to(ROOT))
        for init in sorted((ROOT / "server").glob("*/__init__.py"))
        if "May import" not in (ast.get_docstring(ast.parse(init.read_text())) or "")
    ]
    assert missing == []


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "server", tmp_path / "server")
    return tmp_path


@pytest.mark.parametrize(
    ("module", "line", "expected"),
    [
        (
            "server/stores/store.py",
            "from server.protocol import negotiation",
            "server.stores.store (stores) imports server.protocol.negotiation (protocol)",
        ),
        (
            "server/pages/search.py",
            "    from server.protocol.sparql import bp",
            "server.pages.search (pages) imports server.protocol.sparql (protocol)",
        ),
        (
            "server/config.py",
            "import server.stores.store",
            "server.config (base) imports server.stores.store (stores)",
        ),
    ],
)
def test_an_added_upward_import_is_caught(
    tree_copy: Path, module: str, line: str, expected: str
) -> None:
    path = tree_copy / module
    text = path.read_text()
    if line.startswith(" "):
        line = "def _added() -> None:\n" + line
    path.write_text(text + "\n" + line + "\n")
    assert expected in upward_imports(import_graph(tree_copy))


def test_an_added_import_circle_is_caught(tree_copy: Path) -> None:
    path = tree_copy / "server/stores/cpu_placement.py"
    path.write_text(path.read_text() + "\nfrom server.stores import executor\n")
    assert [
        "server.stores.cpu_placement",
        "server.stores.executor",
        "server.stores.cpu_placement",
    ] in (circles(import_graph(tree_copy)))


def test_stores_import_no_flask() -> None:
    """Query worker processes import `server.stores` and must start without Flask."""
    found = []
    for path in sorted((ROOT / "server/stores").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            found += [f"{path.name}: {name}" for name in names if name.split(".")[0] in WEB]
    assert found == []
