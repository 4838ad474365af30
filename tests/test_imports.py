"""The shape of the code, read from the source (the AST), not from a running import: bot/ has no
import cycle, and only bot/storage.py speaks SQL.

A cycle is what forced ``KnowledgeBase`` to type its content as ``object`` once: a module can only use
another's classes if the other does not need it back. Imports inside functions count (they still make
a cycle, merely a delayed one); imports under ``if TYPE_CHECKING:`` do not (they never run).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOT = ROOT / "bot"


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(tree: ast.Module, modules: set[str]) -> set[str]:
    """The bot modules one module imports, wherever in it (functions included), except for type checkers."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in modules)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module in modules:
                found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in modules)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph() -> dict[str, set[str]]:
    """bot module → the bot modules it imports (``bot`` itself, the package, is left out)."""
    modules = {f"bot.{p.stem}" for p in BOT.glob("*.py") if p.stem != "__init__"}
    graph = {}
    for name in sorted(modules):
        tree = ast.parse((BOT / f"{name.removeprefix('bot.')}.py").read_text(encoding="utf-8"))
        graph[name] = _imported(tree, modules) - {name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle as [a, b, …, a], or [] when the graph has none (depth-first search, three colours)."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return []


def test_the_graph_is_read():
    """A sanity check of the reader: known edges are there, a TYPE_CHECKING-only one is not."""
    graph = import_graph()
    assert "bot.text" in graph["bot.search"]
    assert "bot.actions" in graph["bot.home"]
    assert "bot.storage" not in graph["bot.actions"]


def test_bot_has_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert not cycle, "import cycle in bot/: " + " → ".join(cycle)


# ---------------------------------------------------------------------- SQL stays in bot/storage.py

STORAGE = BOT / "storage.py"
SQL = re.compile(
    r"\b(?:SELECT\b.*\bFROM|INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE\s+(?:OR\s+\w+\s+)?\w+\s+SET|DELETE\s+FROM"
    r"|(?:CREATE|ALTER|DROP)\s+(?:TABLE|INDEX|VIEW|TRIGGER))\b",
    re.S,
)
DATABASE_MODULES = {"sqlite3", "sqlite_utils"}
DATABASE_CALLS = {"execute", "executemany", "executescript", "query"}


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, text) of every string literal; an f-string's text has "x" for each placeholder, so that
    f"UPDATE {table} SET …" reads as SQL too."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.append((node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "x" for v in node.values)
            out.append((node.lineno, text))
    return out


def _sql_outside_storage() -> list[str]:
    """Every SQL-looking string, database import or ``.execute(…)``-style call outside storage.py."""
    found = []
    for path in sorted([*BOT.glob("*.py"), *(ROOT / "handlers").glob("*.py")]):
        if path == STORAGE:
            continue
        name = path.relative_to(ROOT)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += [f"{name}:{line}: SQL in a string: {text[:60]!r}" for line, text in _strings(tree) if SQL.search(text)]
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                found += [f"{name}:{node.lineno}: imports {m}" for m in modules if m.split(".")[0] in DATABASE_MODULES]
            elif (
                isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in DATABASE_CALLS
            ):
                found.append(f"{name}:{node.lineno}: calls .{node.func.attr}()")
    return found


def test_the_sql_reader_sees_storage_queries():
    """A sanity check: the pattern matches the queries storage.py really runs."""
    strings = [text for _, text in _strings(ast.parse(STORAGE.read_text(encoding="utf-8")))]
    assert sum(bool(SQL.search(s)) for s in strings) > 50
    assert any(s.startswith("UPDATE x SET") for s in strings if SQL.search(s)), "f-strings are read"


def test_only_storage_speaks_sql():
    """bot/storage.py owns the schema and every query; the features and the adapters call its methods."""
    assert _sql_outside_storage() == []
