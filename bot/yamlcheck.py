"""The ground floor of the knowledge base: YAML read with line numbers, and the checks every content
file needs (a mapping here, a list of mappings there, strings, ids).

Nothing here knows what an entry, a guide or a checklist is, so every loader can build on it and it
imports no other module of the bot. Every problem is a ``file:line: message`` a curator can act on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,47}$")
LINE_KEY = "__line__"
KEY_LINES = "__keylines__"


class KnowledgeError(Exception):
    """The knowledge base has problems; ``problems`` lists them as ``file:line: message``."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        shown = "\n".join(str(p) for p in problems[:20])
        more = f"\n… và {len(problems) - 20} lỗi khác" if len(problems) > 20 else ""
        super().__init__(f"Kho kiến thức có {len(problems)} lỗi:\n{shown}{more}")


@dataclass(frozen=True)
class Problem:
    """One validation problem at a place in a YAML file."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


# ---------------------------------------------------------------- YAML with line numbers

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser is ~10× faster


class _LineLoader(_BaseLoader):  # type: ignore[misc, valid-type]  # a base chosen at run time
    """Safe loader that records the line of every mapping under ``__line__``."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[object, int] = {}
    for key, _ in node.value:  # YAML keeps the last of two equal keys silently: a curator's slip
        if isinstance(key, yaml.ScalarNode):
            if key.value in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"khóa '{key.value}' lặp lại (đã có ở dòng {seen[key.value]})", key.start_mark
                )
            seen[key.value] = key.start_mark.line + 1
    mapping = yaml.constructor.SafeConstructor.construct_mapping(loader, node, deep=True)
    mapping[LINE_KEY] = node.start_mark.line + 1
    mapping[KEY_LINES] = {k.value: k.start_mark.line + 1 for k, _ in node.value if isinstance(k, yaml.ScalarNode)}
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
# Dates stay strings: curators write 2026-11-25 and we never want datetime objects in content.
_LineLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in _BaseLoader.yaml_implicit_resolvers.items()
}


def line_of(raw: dict, key: str | None = None) -> int:
    """The line of ``key`` in a parsed mapping (the mapping's own line when the key is absent)."""
    return raw.get(KEY_LINES, {}).get(key, raw.get(LINE_KEY, 1)) if key else raw.get(LINE_KEY, 1)


def read_yaml(path: Path, root: Path | None = None) -> tuple[Any, list[Problem]]:
    """Parse one YAML file; a syntax error becomes a Problem with file and line."""
    name = file_name(path, root)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(name, 1, f"không đọc được tệp: {exc}")]
    try:
        return yaml.load(text, Loader=_LineLoader), []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [Problem(name, line, f"YAML không hợp lệ: {problem}")]


def file_name(path: Path, root: Path | None) -> str:
    """How problems name a file: relative to the knowledge folder's parent ("knowledge/guides/x.yaml")."""
    try:
        return str(path.relative_to(root.parent)) if root else str(path)
    except ValueError:
        return str(path)


# ---------------------------------------------------------------- schema


class Checker:
    """Collects problems while turning raw YAML into dataclasses."""

    def __init__(self, root: Path):
        self.root = root
        self.problems: list[Problem] = []

    def add(self, file: str, line: int, message: str) -> None:
        self.problems.append(Problem(file, line, message))

    def string(self, raw: dict, key: str, file: str, *, required: bool = True, where: str = "") -> str:
        value = raw.get(key)
        line = raw.get(LINE_KEY, 1)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.add(file, line, f"{where}thiếu trường '{key}'")
            return ""
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            self.add(file, line, f"{where}'{key}' phải là chuỗi")
            return ""
        return str(value).strip()

    def strings(self, raw: dict, key: str, file: str, *, where: str = "") -> tuple[str, ...]:
        value = raw.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
            self.add(file, raw.get(LINE_KEY, 1), f"{where}'{key}' phải là danh sách chuỗi")
            return ()
        return tuple(str(v).strip() for v in value if str(v).strip())

    def items(self, data: object, key: str, file: str) -> list[dict]:
        if not isinstance(data, dict) or not isinstance(data.get(key), list):
            line = data.get(LINE_KEY, 1) if isinstance(data, dict) else 1
            self.add(file, line, f"tệp phải có danh sách '{key}:'")
            return []
        out = []
        for i, item in enumerate(data[key]):
            if isinstance(item, dict):
                out.append(item)
            else:
                self.add(file, data.get(LINE_KEY, 1), f"phần tử thứ {i + 1} của '{key}' phải là một bảng khóa: giá trị")
        return out

    def ident(self, raw: dict, file: str, what: str) -> str:
        value = self.string(raw, "id", file, where=f"{what}: ")
        if value and not ID_RE.match(value):
            self.add(file, raw.get(LINE_KEY, 1), f"{what} '{value}': id chỉ gồm a-z, 0-9, '-' (2–48 ký tự)")
        return value


# ---------------------------------------------------------------- opening content files


def yaml_files(folder: Path, patterns: tuple[str, ...] = ("*.yaml",)) -> list[Path]:
    """The files of ``folder`` matching each pattern in turn, sorted within a pattern (none if no folder)."""
    return [path for pattern in patterns for path in sorted(folder.glob(pattern))]


def load_file(ck: Checker, path: str | Path, key: str, *, many: bool = False) -> Iterator[tuple[Path, str, dict]]:
    """Open one content file (``path`` relative to the knowledge folder, or absolute) and yield
    ``(path, file name, mapping)``: the mapping under ``key`` (a guide, a form…) or, with ``many``, each
    mapping of the list under ``key`` (entries, questions, events…). What cannot be read, a missing key
    or a wrong shape is recorded in ``ck`` and skipped, so a loader only sees content worth checking."""
    path = ck.root / path
    file = file_name(path, ck.root)
    data, problems = read_yaml(path, ck.root)
    ck.problems += problems
    if problems:
        return
    if many:
        for item in ck.items(data, key, file):
            yield path, file, item
        return
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, dict):
        ck.add(file, 1, f"tệp phải có khóa '{key}:'")
        return
    yield path, file, value


def load_folder(
    ck: Checker, folder: str, key: str, *, many: bool = False, patterns: tuple[str, ...] = ("*.yaml",)
) -> Iterator[tuple[Path, str, dict]]:
    """:func:`load_file` for every file of knowledge/<folder> matching ``patterns``, in file name order."""
    for path in yaml_files(ck.root / folder, patterns):
        yield from load_file(ck, path, key, many=many)
