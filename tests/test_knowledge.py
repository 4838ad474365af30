"""Loading and validating content: every problem names its file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot import knowledge, loader
from bot.cli import main
from bot.yamlcheck import KnowledgeError

FIXTURE = Path(__file__).parent / "fixtures" / "kb"


@pytest.fixture
def kb_copy(tmp_path) -> Path:
    target = tmp_path / "kb"
    shutil.copytree(FIXTURE, target)
    return target


def problems(root: Path) -> list[str]:
    return [str(p) for p in loader.load_with_problems(root)[1]]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_fixture_is_valid(kb_copy):
    kb = loader.load(kb_copy)
    assert set(kb.entries) == {"dgnb-tan-suat", "pl-qd19"}
    assert str(kb.entries["dgnb-tan-suat"].sources[0]) == "Khoản 9.2, TCVN ISO 9001:2015"


def test_malformed_yaml_names_file_and_line(kb_copy):
    edit(
        kb_copy / "entries" / "main.yaml",
        '    title: "Quyết định 19/2014 quy định gì?"',
        '    title: "mở ngoặc\n  - : [',
    )
    (msg,) = problems(kb_copy)
    assert msg.startswith("kb/entries/main.yaml:") and "YAML không hợp lệ" in msg
    assert int(msg.split(":")[1]) in range(15, 20)


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ("  - id: pl-qd19", "  - id: dgnb-tan-suat", "trùng với mục ở kb/entries/main.yaml:2"),
        ("related: [pl-qd19]", "related: [khong-co]", "'related' trỏ tới mục không tồn tại 'khong-co'"),
        ("related: [pl-qd19]", "related: [dgnb-tan-suat]", "trỏ vào chính nó"),
        ("    sources:\n      - {doc: qd-19-2014}\n", "", "thiếu nguồn trích dẫn"),
        ("{doc: qd-19-2014}", "{doc: qd-99-2099}", "nguồn 'qd-99-2099' không có trong documents.yaml"),
        ('"QĐ 19 nói gì"', '"tần suất đánh giá nội bộ"', "trùng với mục 'dgnb-tan-suat'"),
        ("topic: phap-ly", "topic: khong-co", "chủ đề 'khong-co' không có trong topics.yaml"),
        ("  - id: pl-qd19", "  - id: PL QD19", "id chỉ gồm a-z"),
        # a clause the standard does not have, in a source or in the answer text: the worst content bug
        ('ref: "khoản 9.2"', 'ref: "khoản 9.4"', "TCVN ISO 9001:2015 không có khoản/điều 9.4"),
        ('ref: "khoản 9.2"', 'ref: "Điều 11"', "TCVN ISO 9001:2015 không có khoản/điều 11"),
        (
            "Theo những khoảng thời gian đã hoạch định.",
            "Theo khoản 9.2.3.",
            "nhắc khoản 9.2.3, TCVN ISO 9001:2015 không có",
        ),
    ],
)
def test_content_problems_are_reported_with_line(kb_copy, old, new, expected):
    edit(kb_copy / "entries" / "main.yaml", old, new)
    found = problems(kb_copy)
    assert any(expected in p for p in found), found
    assert all(p.startswith("kb/") and p.split(":")[1].isdigit() for p in found)


def test_a_valid_clause_or_a_19011_clause_is_not_reported(kb_copy):
    edit(
        kb_copy / "entries" / "main.yaml",
        "Theo những khoảng thời gian đã hoạch định.",
        "Theo khoản 9.2.2; chi tiết ở khoản 6.4.7 TCVN ISO 19011.",
    )
    assert problems(kb_copy) == []


def test_over_long_answer_is_reported(kb_copy):
    edit(
        kb_copy / "entries" / "main.yaml",
        '"Việc áp dụng HTQLCL trong cơ quan hành chính nhà nước."',
        '"' + "dài " * 300 + '"',
    )
    (msg,) = problems(kb_copy)
    assert "kb/entries/main.yaml:18:" in msg and "tối đa 900" in msg


def test_a_sentence_saying_bam_needs_its_zalo_wording(kb_copy):
    """Zalo has no buttons: "bấm «Lưu»" must have a ``__text`` variant ("chọn «Lưu»") for Zalo and the
    terminal, and that variant must not say "bấm" itself."""
    ui = kb_copy / "ui.yaml"
    edit(ui, '  sources_label: "Nguồn"', '  sources_label: "Nguồn"\n  save_hint: "Anh/chị bấm «Lưu» để lưu."')
    (msg,) = problems(kb_copy)
    assert "kb/ui.yaml:" in msg and "'save_hint'" in msg and "save_hint__text" in msg
    edit(ui, "  save_hint: ", '  save_hint__text: "Anh/chị bấm số 1."\n  save_hint: ')
    (msg,) = problems(kb_copy)
    assert "'save_hint__text'" in msg
    edit(ui, '"Anh/chị bấm số 1."', '"Anh/chị chọn «Lưu» để lưu."')
    assert problems(kb_copy) == []


def test_strict_load_raises_with_all_problems(kb_copy):
    edit(kb_copy / "entries" / "main.yaml", "related: [pl-qd19]", "related: [khong-co]")
    with pytest.raises(KnowledgeError) as info:
        loader.load(kb_copy)
    assert "khong-co" in str(info.value)


def test_kb_check_command_exit_codes(kb_copy, tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"knowledge_dir: {kb_copy}\ndatabase: {tmp_path / 'db.sqlite3'}\n", encoding="utf-8")
    assert main(["kb", "check", "--config", str(cfg)]) == 0
    assert "OK: 2 mục" in capsys.readouterr().out
    edit(kb_copy / "entries" / "main.yaml", "{doc: qd-19-2014}", "{doc: khong-co}")
    assert main(["kb", "check", "--config", str(cfg)]) == 1
    assert "kb/entries/main.yaml:" in capsys.readouterr().err


def test_real_knowledge_base_is_valid_and_large_enough(kb):
    assert len(kb.entries) >= 150
    counts = dict((t, n) for t, _, n in loader.stats(kb))
    assert all(n > 0 for n in counts.values()), counts


def test_every_answer_cites_a_source_and_fits_a_phone(kb):
    for e in kb.entries.values():
        assert e.sources, e.id
        assert len(e.answer) <= knowledge.MAX_ANSWER_CHARS, e.id
        assert len(e.questions) >= 3, f"{e.id}: officials ask in many ways; give at least 3 phrasings"


def test_no_answer_sends_users_to_the_abolished_district_level(kb):
    # Since 01/7/2025 there is no district level (Luật 72/2025/QH15). Answers may mention it only as history.
    for e in kb.entries.values():
        text = e.answer.lower()
        for phrase in ("gửi ubnd huyện", "gửi ubnd cấp huyện", "nộp về huyện", "trình ubnd huyện"):
            assert phrase not in text, e.id


def test_a_relative_knowledge_folder_loads_like_an_absolute_one(monkeypatch):
    """`knowledge_dir: knowledge` in a config read from the project folder: files are not looked for
    under knowledge/knowledge/."""
    from bot import loader
    from tests.conftest import KNOWLEDGE

    monkeypatch.chdir(KNOWLEDGE.parent)
    kb = loader.load("knowledge")
    assert len(kb.entries) == len(loader.load(KNOWLEDGE).entries) > 300
