"""The phrasing classifier (bot/intent.py): what it reads, that its own scoring is scikit-learn's, and
how the search uses it."""

from __future__ import annotations

import numpy as np
import pytest

from bot import intent
from bot.intent import PhrasingModel, features

TEXTS = [
    (["danh", "gia", "noi", "bo", "bao", "lau"], ["frequency"]),
    (["danh", "gia", "noi", "bo", "la", "gi"], ["definition"]),
    (["hop", "xem", "xet", "lanh", "dao", "bao", "lau"], ["frequency"]),
    (["hop", "xem", "xet", "lanh", "dao", "gom", "ai"], ["who"]),
    (["muc", "tieu", "chat", "luong", "la", "gi"], ["definition"]),
    (["muc", "tieu", "chat", "luong", "ai", "duyet"], ["who"]),
]
LABELS = [0, 0, 1, 1, 2, 2]


def test_features_are_words_word_pairs_and_facets():
    assert features((["bao", "lau", "mot", "lan"], ["frequency"])) == [
        "bao",
        "lau",
        "mot",
        "lan",
        "bao lau",
        "lau mot",
        "mot lan",
        "@frequency",
    ]
    assert features(([], [])) == []


def test_scores_are_the_svm_decision_values(monkeypatch):
    """Scoring by hand (tf-idf rows times the kept weights) gives what scikit-learn's own pipeline gives."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    monkeypatch.setattr(intent, "KEEP", 0.0)  # keep every weight: then the two must agree exactly
    model = PhrasingModel.fit(TEXTS, LABELS, n_entries=4)
    vectorizer = TfidfVectorizer(
        analyzer=features, sublinear_tf=True, min_df=intent.MIN_DF, dtype=np.float32, lowercase=False
    )
    svm = LinearSVC(C=intent.C, random_state=0).fit(vectorizer.fit_transform(TEXTS), LABELS)
    question = (["danh", "gia", "noi", "bo", "bao", "lau", "bao", "lau"], ["frequency"])
    expected = svm.decision_function(vectorizer.transform([question]))[0]
    got = model.scores(question)
    assert got.shape == (4,)
    np.testing.assert_allclose(got[:3], expected, atol=1e-5)
    assert got[3] == -1.0  # an entry with no phrasing is never the classifier's choice
    assert int(np.argmax(got)) == 0


def test_a_question_of_unknown_words_gets_the_bias_only():
    model = PhrasingModel.fit(TEXTS, LABELS, n_entries=3)
    np.testing.assert_array_equal(model.scores((["xin", "chao"], [])), model.bias)


def test_small_weights_are_dropped():
    full = PhrasingModel.fit(TEXTS, LABELS, n_entries=3)
    assert np.all(np.abs(full.weight) > intent.KEEP)
    assert len(full.start) == len(full.vocabulary) + 1


def test_the_searcher_classifier_knows_its_own_titles(searcher):
    """Trained on titles and example questions, it puts an entry first for nearly all of its own titles."""
    model = searcher.model
    assert model is not None
    entries = [e for e in searcher.entries if not e.id.startswith("oos:")]
    right = sum(
        int(np.argmax(model.scores(searcher._model_words(e.title)))) == searcher.entries.index(e) for e in entries
    )
    assert right / len(entries) >= 0.95, f"{right} of {len(entries)}"


def test_hits_carry_the_vote_and_the_search_works_without_a_classifier(kb, monkeypatch):
    from bot import search

    with_model = search.Searcher(kb)
    hit = with_model.search("đánh giá nội bộ bao lâu một lần").best
    assert hit is not None and hit.vote is not None and hit.voted_first
    monkeypatch.setattr(search, "MODEL_MAX_ENTRIES", 10)  # a base this big ranks without it
    plain = search.Searcher(kb)
    assert plain.model is None
    result = plain.search("đánh giá nội bộ bao lâu một lần")
    assert result.matched and result.best.vote is None
    assert result.best.entry.id == hit.entry.id


@pytest.mark.parametrize(
    "question, entry",
    [
        # play-testers' questions (2026-12-03) that the ranking alone answered with a neighbour
        ("co bat buoc chung nhan iso ko", "cb-chung-nhan-vs-cong-bo"),
        ("phuong moi thanh lap sau sap nhap co phai cong bo lai ko", "cb-sau-sap-nhap"),
        ("doan kiem tra cua so khcn xuong thi ho xem nhung gi", "kt-noi-dung-he-thong"),
    ],
)
def test_the_classifier_tells_neighbours_apart(searcher, question, entry):
    result = searcher.search(question)
    assert result.matched and result.best.entry.id == entry, (result.outcome, result.best and result.best.entry.id)
