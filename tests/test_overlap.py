"""`isobot kb overlap`: leave-one-phrasing-out over the real knowledge base."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from bot.overlap import overlap
from tests.conftest import KNOWLEDGE


def _topics(kb, *topics):
    return dataclasses.replace(kb, entries={i: e for i, e in kb.entries.items() if e.topic in topics})


def test_every_phrasing_is_asked_once(kb):
    small = _topics(kb, "danh-gia-noi-bo")
    report = overlap(small)
    assert report.asked == sum(len(e.questions) for e in small.entries.values())
    wrong = sum(len(c.phrasings) for c in report.confusions)
    assert report.correct + wrong == report.asked
    assert all(c.owner != c.winner for c in report.confusions)


def test_a_duplicated_entry_is_reported_as_the_worst_pair(kb):
    small = _topics(kb, "xem-xet-lanh-dao")
    original = next(iter(small.entries.values()))
    copy = dataclasses.replace(original, id="ban-sao-trung-lap")
    report = overlap(dataclasses.replace(small, entries={**small.entries, copy.id: copy}))
    worst = {report.confusions[0].owner, report.confusions[0].winner}
    assert worst == {original.id, copy.id}
    clean = overlap(small)
    assert clean.accuracy > report.accuracy


def test_cli_prints_the_figure_and_pairs(config_file, capsys):
    """On the small fixture base: the real one takes ~60 index builds, a minute of the suite."""
    from bot.cli import main

    fixture = Path(__file__).parent / "fixtures" / "kb"
    config_file.write_text(
        config_file.read_text(encoding="utf-8").replace(f"knowledge_dir: {KNOWLEDGE}", f"knowledge_dir: {fixture}"),
        encoding="utf-8",
    )
    assert main(["kb", "overlap", "--top", "3", "--config", str(config_file)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Hỏi lại ") and "%" in out[0]
    assert 1 <= len(out) <= 5
