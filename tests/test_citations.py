"""Legal citations in the content say what the codified text says.

The rules below were read on 2026-12-04 in the codified text of TT 26/2014/TT-BKHCN (Bộ pháp điển,
articles 19.8.TT.6.x; public mirror diepxuan/diepxuan.github.io, file
van-ban/khoa-hoc-cong-nghe/tieu-chuan-va-quy-chuan-ky-thuat.md). Every YAML file of the real
knowledge base is read as it is, so a sentence any feature shows (answer, quiz explanation,
checklist item, calendar note, readiness point, documents.yaml note) is checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import yaml

from tests.conftest import KNOWLEDGE

# What users type, not what the bot states.
TYPED_KEYS = {"questions", "keywords", "examples", "variants", "cues"}

# TT 26/2014: the form an inspection uses and the article that prescribes it.
# Mẫu 19 KHKT: khoản 1 Điều 34; Mẫu 20 QĐKT: khoản 1, 2 Điều 35; Mẫu 21 BBKT: điểm b khoản 2 Điều 37.
FORM_ARTICLE = {"19 KHKT": "Điều 34", "20 QĐKT": "Điều 35", "21 BBKT": "Điều 37"}
ARTICLES = re.compile(r"Điều (\d+(?:(?:, | và |–)\d+)*)")  # "Điều 37", "Điều 34, 35, 37", "Điều 41 và 42"


def stated_texts(node: object, where: str) -> Iterator[tuple[str, str]]:
    """(where, text) of every string under ``node`` except what users type."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key not in TYPED_KEYS:
                inner = f"{where} {node['id']}" if isinstance(node.get("id"), str) else where
                yield from stated_texts(value, inner)
    elif isinstance(node, list):
        for value in node:
            yield from stated_texts(value, where)
    elif isinstance(node, str):
        yield where, node


def content() -> Iterator[tuple[str, str]]:
    """Every stated string of every YAML file in knowledge/."""
    for path in sorted(KNOWLEDGE.rglob("*.y*ml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        yield from stated_texts(data, Path(path).relative_to(KNOWLEDGE).as_posix())


def parts(text: str) -> list[str]:
    """A text cut into the pieces one citation belongs to: sentences and ';'-separated clauses."""
    return [p for p in re.split(r"[;\n]|\.\s", text) if p.strip()]


def test_each_inspection_form_is_cited_with_the_article_that_prescribes_it():
    wrong = []
    for where, text in content():
        for part in parts(text):
            articles = {f"Điều {n}" for group in ARTICLES.findall(part) for n in re.findall(r"\d+", group)}
            for form, article in FORM_ARTICLE.items():
                if articles and form in part and article not in articles:
                    wrong.append(f"{where}: Mẫu {form} is in {article}, not {sorted(articles)}: {part.strip()}")
    assert not wrong, "\n".join(wrong)


def test_the_two_months_after_an_inspection_are_a_deadline_for_the_report():
    """TT 26 điểm c khoản 2 Điều 37: the agency carries out *or proposes* corrective actions and reports
    on them within 2 months of signing the record. Saying it corrects and reports within 2 months
    turns the deadline for the report into one for finishing every correction."""
    wrong = []
    for where, text in content():
        for part in parts(text):
            if not re.search(r"\b2 tháng\b", part) or not re.search(r"Điều 37|biên bản", part):
                continue
            low = part.lower()
            head = low.split("báo cáo", 1)[0] if "báo cáo" in low else None
            if head is None or ("khắc phục" in head and "đề xuất" not in head):
                wrong.append(f"{where}: {part.strip()}")
    assert not wrong, "\n".join(wrong)


def test_the_inspecting_unit_is_not_glossed_as_the_department():
    """TT 26 khoản 5 Điều 3: in a province the đơn vị kiểm tra is the Chi cục TĐC, whose place in the
    Sở after 2025 each province decides; the bot sends users to the unit named in the record."""
    wrong = [
        f"{where}: {text[:120]}" for where, text in content() if re.search(r"đơn vị kiểm tra \((là |tức )?Sở", text)
    ]
    assert not wrong, "\n".join(wrong)
