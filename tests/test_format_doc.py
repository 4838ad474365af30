"""knowledge/FORMAT.md describes every key the content uses.

The loader ignores keys it does not know, so a new field that nobody documented, or a misspelt one
(``keyword:`` for ``keywords:``) that silently does nothing, would go unnoticed. Here every mapping
key of every knowledge/**/*.yaml must appear as `key` in the FORMAT.md section whose heading names
the file (a backticked path pattern: "## Guides (`guides/*.yaml`)"), so a title documented for
entries does not cover a title in quizzes.

Not every mapping holds field names. Two hold data keyed by name, and are skipped: ui.yaml's
``messages`` (one key per sentence the code asks for) and facets.yaml's ``facets`` (one key per
facet kind, which ``kb check`` compares with FACETS and the last test compares with FORMAT.md).
"""

from __future__ import annotations

import re
from fnmatch import fnmatch
from pathlib import Path

import yaml

from bot.knowledge import FACETS

ROOT = Path(__file__).resolve().parent.parent / "knowledge"
FORMAT = (ROOT / "FORMAT.md").read_text(encoding="utf-8")
# file pattern → paths (keys from the top, lists not counted) of the maps whose keys are data, not fields
DATA_KEYED = {"ui.yaml": {("messages",)}, "facets.yaml": {("facets",)}}


def sections(text: str) -> list[tuple[list[str], str]]:
    """(file patterns named in the heading, whole text) of every '## ' section, sub-sections included."""
    out = []
    for part in re.split(r"^## ", text, flags=re.M)[1:]:
        heading = part.split("\n", 1)[0]
        out.append((re.findall(r"`([^`\s]+\.ya?ml)`", heading), part))
    return out


def documented_in(rel: str, text: str = FORMAT) -> str:
    """The text of every section whose heading names a pattern that matches ``rel``."""
    return "\n".join(body for patterns, body in sections(text) if any(fnmatch(rel, p) for p in patterns))


def keys(value: object, rel: str, path: tuple[str, ...] = ()):
    """(path, key) of every mapping key in parsed YAML, skipping maps keyed by data."""
    skip = DATA_KEYED.get(rel, set())
    if isinstance(value, dict):
        if path in skip:
            return
        for k, v in value.items():
            yield path, str(k)
            yield from keys(v, rel, (*path, str(k)))
    elif isinstance(value, list):
        for v in value:
            yield from keys(v, rel, path)


def undocumented(rel: str, data: object, text: str = FORMAT) -> list[str]:
    """Keys of one file that its section of FORMAT.md does not name as `key`."""
    doc = documented_in(rel, text)
    return sorted({".".join((*p, k)) for p, k in keys(data, rel) if f"`{k}`" not in doc})


def knowledge_files() -> list[tuple[str, object]]:
    return [
        (p.relative_to(ROOT).as_posix(), yaml.safe_load(p.read_text(encoding="utf-8")))
        for p in sorted([*ROOT.rglob("*.yaml"), *ROOT.rglob("*.yml")])
    ]


def test_every_knowledge_file_has_a_section():
    files = knowledge_files()
    assert len(files) > 40
    missing = [rel for rel, _ in files if not documented_in(rel)]
    assert not missing, f"no '## …' heading of knowledge/FORMAT.md names these files: {missing}"


def test_every_key_of_every_file_is_documented_in_its_section():
    problems = [f"{rel}: {', '.join(bad)}" for rel, data in knowledge_files() if (bad := undocumented(rel, data))]
    assert not problems, "keys not described as `key` in their section of knowledge/FORMAT.md:\n" + "\n".join(problems)


def test_the_check_notices_a_new_key_and_skips_data_keys():
    doc = "## Guides (`guides/*.yaml`)\n`guide`, `id`, `steps`, `title`\n## UI (`ui.yaml`)\n`messages`\n"
    guide = {"guide": {"id": "g", "steps": [{"title": "t", "tipp": "misspelt"}]}}
    assert undocumented("guides/g.yaml", guide, doc) == ["guide.steps.tipp"]
    assert undocumented("ui.yaml", {"messages": {"welcome": "Xin chào"}}, doc) == []
    assert undocumented("quizzes/q.yaml", {"quizzes": [{"id": "q"}]}, doc) == ["quizzes", "quizzes.id"]


def test_every_facet_kind_and_the_check_command_are_documented():
    assert [f for f in FACETS if f"`{f}`" not in FORMAT] == []
    assert "isobot kb check" in FORMAT
