"""The index structures of bot/search.py against direct computations: what the flat numpy arrays hold
must be what a per-entry Python build (the one they replaced) would have computed."""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import yaml

from bot import search
from bot.search import CLAUSE_MARK, TermIndex, _content, _terms, _trie_pattern, _Words
from bot.text import Ids

DATA = Path(__file__).parent / "data"
DOCS = [["a", "b", "a"], ["b", "c"], [], ["a", "d", "d", "d"], ["c"]]


def direct_bm25(docs: list[list[str]], query: list[str], k1: float, b: float) -> list[float]:
    n = len(docs)
    avgdl = sum(map(len, docs)) / n
    out = []
    for doc in docs:
        tf, score = Counter(doc), 0.0
        for t in query:
            df = sum(t in d for d in docs)
            if tf[t]:
                idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
                score += idf * tf[t] * (k1 + 1) / (tf[t] + k1 * (1 - b + b * len(doc) / avgdl))
        out.append(score)
    return out


def index_of(docs: list[list[str]], codes: dict[str, int], b: float = 0.75) -> TermIndex:
    terms = np.array([codes[t] for d in docs for t in d], dtype=np.int64)
    owner = np.array([i for i, d in enumerate(docs) for _ in d], dtype=np.int32)
    return TermIndex(terms, owner, len(docs), np.array(sorted(codes.values())), k1=1.2, b=b)


@pytest.mark.parametrize("codes", [{"a": 0, "b": 1, "c": 2, "d": 3}, {"a": 7, "b": 40, "c": 41, "d": 1000}])
@pytest.mark.parametrize("query", [["a"], ["d"], ["a", "b"], ["b", "c", "d"], []])
def test_term_index_scores_are_bm25(codes, query):
    """Any sorted codes name the terms; a term's id is the position of its code."""
    index = index_of(DOCS, codes)
    position = {t: int(np.searchsorted(sorted(codes.values()), c)) for t, c in codes.items()}
    got = index.scores([position[t] for t in query])
    assert got.dtype == np.float32
    assert np.allclose(got, direct_bm25(DOCS, query, 1.2, 0.75), rtol=1e-6, atol=0)


def test_term_index_postings_are_sorted_by_document_with_their_counts():
    index = index_of(DOCS, {"a": 0, "b": 1, "c": 2, "d": 3})
    postings = {t: index.docs[index.offsets[t] : index.offsets[t + 1]].tolist() for t in range(4)}
    assert postings == {0: [0, 3], 1: [0, 1], 2: [1, 4], 3: [3]}
    assert index.frequency.tolist() == [3, 2, 2, 3]  # occurrences, not documents
    assert index.keys().tolist() == [t * 5 + d for t in range(4) for d in postings[t]]


@pytest.mark.parametrize("block", [1, 3, 2_000_000])
def test_documents_sharing_a_term_across_two_indexes_are_counted_by_blocks(monkeypatch, block):
    """``shared`` compares the postings of a few terms at a time (memory at 100× size): whatever the
    block, each term counts the documents that have it in both indexes."""
    monkeypatch.setattr(search, "SHARED_BLOCK", block)
    rnd = random.Random(block)
    codes = {t: i for i, t in enumerate("abcdefg")}
    questions = [[rnd.choice("abcdefg") for _ in range(rnd.randrange(0, 6))] for _ in range(40)]
    answers = [[rnd.choice("abcdefg") for _ in range(rnd.randrange(0, 9))] for _ in range(40)]
    got = index_of(questions, codes).shared(index_of(answers, codes)).tolist()
    assert got == [sum(t in q and t in a for q, a in zip(questions, answers, strict=True)) for t in "abcdefg"]
    assert sum(got) > 0
    values = np.array(sorted(rnd.sample(range(1000), 50)), dtype=np.int64)
    asked = np.array([rnd.randrange(1000) for _ in range(77)], dtype=np.int64)
    positions = search._positions(values, asked)
    assert positions.dtype == np.int32 and positions.tolist() == np.searchsorted(values, asked).tolist()


def test_the_bigram_codes_of_words_are_the_terms_of_each_group():
    rnd = random.Random(4)
    vocab = ["danh", "gia", "la", "gi", "§9.2", "noi", "bo", "va", "#dgnb", "luc+"]
    groups = [[rnd.choice(vocab) for _ in range(rnd.randrange(0, 9))] for _ in range(300)]
    ids = Ids()
    flat = np.array([ids[w] for g in groups for w in g], dtype=np.int32)
    group = np.array([i for i, g in enumerate(groups) for _ in g], dtype=np.int32)
    words = _Words(ids)
    for clauses in (True, False):
        codes, of = words.terms(flat, group, clauses)
        got = [Counter() for _ in groups]
        for c, i in zip(codes.tolist(), of.tolist(), strict=False):
            got[i][words.name(c)] += 1
        want = [Counter(_terms(g if clauses else [w for w in g if not w.startswith(CLAUSE_MARK)])) for g in groups]
        assert got == want


def test_bulk_word_ids_are_the_words_of_each_text(searcher, kb):
    """Normalizer.word_ids (the index) reads every text as Normalizer.words (a question) does,
    compound marks and clause tokens included."""
    texts = [t for e in kb.entries.values() for t in (e.title, *e.questions, *e.keywords, e.answer)]
    texts += [
        r["q"]
        for name in ("eval_dev.yaml", "eval_domain_dev.yaml")
        for r in yaml.safe_load((DATA / name).read_text(encoding="utf-8"))["questions"]
    ]
    ids = Ids()
    flat, lengths = searcher.norm.word_ids(texts, ids)
    vocab = list(ids)
    ends = np.cumsum(lengths).tolist()
    got = [[vocab[i] for i in flat[end - n : end].tolist()] for end, n in zip(ends, lengths.tolist(), strict=False)]
    assert got == [searcher.norm.words(t) for t in texts]
    assert any(w.endswith("+") for ws in got for w in ws) and any(w.startswith(CLAUSE_MARK) for ws in got for w in ws)


def test_trie_pattern_matches_like_the_alternation_longest_first():
    keys = ["danh gia", "danh gia noi bo", "dgnb", "noi bo", "kph", "khong phu hop", "iso", "iso 9001", "a"]
    old = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True)) + r")(?!\w)")
    new = re.compile(rf"(?<!\w){_trie_pattern(keys)}(?!\w)")
    rnd = random.Random(2)
    pieces = keys + ["danh", "gia", "noi", "bo+", "x", "isoo", "9001", "§9.2", "  "]
    for _ in range(3000):
        text = " ".join(rnd.choice(pieces) for _ in range(rnd.randrange(1, 8)))
        assert [m.span() for m in new.finditer(text)] == [m.span() for m in old.finditer(text)], text


def test_the_index_holds_what_a_per_entry_build_computes(searcher):
    """The old build, entry by entry with Counters and frozensets, as the reference."""
    s, norm = searcher, searcher.norm
    q_docs, a_docs, phrasings, phrasing_terms = [], [], [], []
    for e in s.entries:
        q_words = []
        for text in (e.title, *e.questions):
            words = norm.words(text)
            q_words += words
            plain = [w for w in words if not w.startswith(CLAUSE_MARK)]
            phrasings.append(" ".join(sorted(_content(plain))))  # sorted: what rapidfuzz is given
            phrasing_terms.append(frozenset(_terms(plain)))
        for text in e.keywords:
            q_words += norm.words(text)
        q_docs.append(Counter(_terms(q_words)))
        a_docs.append(Counter(_terms(norm.words(e.answer))))
    names = list(s.term_ids)
    assert set(names) == {t for d in q_docs + a_docs for t in d}
    for index, docs in ((s.q_index, q_docs), (s.a_index, a_docs)):
        postings = {
            (names[t], d)
            for t in range(len(names))
            for d in index.docs[index.offsets[t] : index.offsets[t + 1]].tolist()
        }
        assert postings == {(t, i) for i, d in enumerate(docs) for t in d}
    n = len(s.entries)
    df = Counter(t for q, a in zip(q_docs, a_docs, strict=False) for t in set(q) | set(a))
    # numpy's vectorised log and math.log may differ in the last bit
    want_idf = [math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5)) for t in names]
    np.testing.assert_allclose(s.idf_by_id, want_idf, rtol=1e-12, atol=0)
    count = sum(q_docs + a_docs, Counter())
    assert s.words2 == {
        t
        for t, c in count.items()
        if c >= 3 and "_" in t and "#" not in t and c >= 0.1 * min(count[p] for p in t.split("_"))
    }
    assert s.phrasings == phrasings
    got = [
        frozenset(names[t] for t in s.phrasing_terms[s.phrasing_start[p] : s.phrasing_start[p + 1]].tolist())
        for p in range(len(phrasings))
    ]
    assert got == phrasing_terms
    total = [sum(s._idf(t) for t in terms) for terms in phrasing_terms]
    assert np.allclose(s.phrasing_total, total, rtol=1e-12, atol=0)
    assert [len(e.questions) + 1 for e in s.entries] == np.diff(s.entry_start).tolist()
