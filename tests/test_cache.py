"""The pickled knowledge base + index: used when it matches, rebuilt when anything changes."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from bot import cache, loader
from bot import config as config_mod

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def cfg(tmp_path):
    shutil.copytree(ROOT / "knowledge", tmp_path / "knowledge")
    (tmp_path / "config.yaml").write_text("knowledge_dir: knowledge\ndatabase: data/t.sqlite3\n", encoding="utf-8")
    return config_mod.load(tmp_path / "config.yaml", env={})


def _count_loads(monkeypatch) -> list[int]:
    calls = []
    real = loader.load

    def counting(root, **kw):
        calls.append(1)
        return real(root, **kw)

    monkeypatch.setattr(loader, "load", counting)
    return calls


def test_second_start_uses_the_cache_and_answers_the_same(cfg, monkeypatch):
    calls = _count_loads(monkeypatch)
    kb1, s1 = cache.load_indexed(cfg)
    assert cfg.cache_dir == cfg.knowledge_dir.parent / "data" / "cache"
    assert len(list(cfg.cache_dir.glob("index-*.pickle"))) == 1
    kb2, s2 = cache.load_indexed(cfg)
    assert calls == [1], "the second start read no YAML"
    assert s2.kb is kb2 and set(kb2.entries) == set(kb1.entries)
    q = "danh gia noi bo bao lau 1 lan"
    assert s2.search(q).best.entry.id == s1.search(q).best.entry.id


def test_an_edited_file_rebuilds_and_replaces_the_old_cache(cfg, monkeypatch):
    cache.load_indexed(cfg)
    old = next(cfg.cache_dir.glob("index-*.pickle"))
    entries = cfg.knowledge_dir / "entries" / "tong-quan.yaml"
    entries.write_text(
        entries.read_text(encoding="utf-8").replace(
            '"ISO 9001 trong cơ quan nhà nước là gì?"', '"ISO 9001 ở cơ quan nhà nước là gì?"'
        ),
        encoding="utf-8",
    )
    calls = _count_loads(monkeypatch)
    kb, _ = cache.load_indexed(cfg)
    assert calls == [1] and kb.entries["tq-iso-co-quan-nha-nuoc"].title == "ISO 9001 ở cơ quan nhà nước là gì?"
    assert [p.name for p in cfg.cache_dir.glob("index-*.pickle")] != [old.name]
    assert len(list(cfg.cache_dir.glob("index-*.pickle"))) == 1


def test_a_corrupt_cache_is_rebuilt_and_thresholds_come_from_this_run(cfg, monkeypatch):
    cache.load_indexed(cfg)
    path = next(cfg.cache_dir.glob("index-*.pickle"))
    path.write_bytes(b"not a pickle")
    calls = _count_loads(monkeypatch)
    cache.load_indexed(cfg)
    assert calls == [1]
    strict = replace(cfg, search=replace(cfg.search, answer_threshold=99))
    _, searcher = cache.load_indexed(strict)
    assert calls == [1] and searcher.config.answer_threshold == 99


def test_cache_can_be_switched_off(tmp_path, monkeypatch):
    (tmp_path / "config.yaml").write_text(f"knowledge_dir: {ROOT / 'knowledge'}\ncache_dir: off\n", encoding="utf-8")
    cfg = config_mod.load(tmp_path / "config.yaml", env={})
    assert cfg.cache_dir is None
    calls = _count_loads(monkeypatch)
    cache.load_indexed(cfg)
    cache.load_indexed(cfg)
    assert calls == [1, 1]
    assert config_mod.load(tmp_path / "config.yaml", env={"ISOBOT_CACHE_DIR": "/tmp/x"}).cache_dir == Path("/tmp/x")
