"""Which entry a question is, learned from the entries' own phrasings: a linear classifier.

The ranking of :mod:`bot.search` scores each entry by how much of the question its closest phrasing
covers. That finds an entry that says what was asked, but it cannot tell which *words* separate two
neighbours ("đầu vào" of the review as a whole, or its items a and b): every shared word counts the
same. A linear support-vector machine trained on the phrasings (title and example questions, several
per entry) learns those weights. On the four blind sets, each on the knowledge base it was consulted
at, it put the right entry first for 84% of the questions, against 79% for the ranking alone.

Features are the words and word pairs of the normalized question (the search's own normalization:
folded, typos repaired, glossary forms tagged), weighted tf-idf as scikit-learn computes them. Only
training needs scikit-learn; scoring a question is a sum of a few rows of the weight matrix.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Collection, Sequence

import numpy as np

MIN_DF = 2  # a word or word pair in fewer phrasings than this is no feature (a one-off says nothing general)
TRAINED_MAX = 4  # models kept in memory, by their phrasings (the model is read-only once trained)
KEEP = 0.01  # weights this small are dropped: 9% of them are kept, and the blind-set figures do not move
C = 0.5  # the SVM's regularization (lower: smoother weights); 0.2–1.0 gave the same top-1 on the blind sets


Text = tuple[Sequence[str], Collection[str]]  # a question's normalized words, and the facets it asks ("frequency")


def features(text: Text) -> list[str]:
    """The words, adjacent word pairs and asked facets of a question, as the vectorizer of
    :meth:`PhrasingModel.fit` sees them. The facets let one topic's entries be told apart by the kind of
    answer asked: "khảo sát sự hài lòng bao lâu một lần" is the frequency entry of the survey."""
    words, facets = text
    return [*words, *(f"{a} {b}" for a, b in zip(words, words[1:], strict=False)), *(f"@{f}" for f in facets)]


_TRAINED: dict[str, PhrasingModel] = {}


class PhrasingModel:
    """One linear scorer per entry over word and word-pair features, its weights stored by feature (the
    few that matter: for feature ``k``, entries ``entry[start[k]:start[k + 1]]`` with ``weight[…]``)."""

    def __init__(self, vocabulary: dict[str, int], idf: np.ndarray, weights: np.ndarray, bias: np.ndarray):
        self.vocabulary = vocabulary
        self.idf = idf.astype(np.float32)
        kept = np.abs(weights) > KEEP  # features × entries
        self.start = np.concatenate(([0], np.cumsum(kept.sum(axis=1)))).astype(np.int64)
        self.entry = np.nonzero(kept)[1].astype(np.int32)
        self.weight = weights[kept].astype(np.float32)
        self.bias = bias.astype(np.float32)

    @classmethod
    def fit(cls, texts: Sequence[Text], labels: Sequence[int], n_entries: int) -> PhrasingModel:
        """Train on normalized phrasings (``texts``: words and facets of each) and the entry of each; the
        same phrasings again (another Searcher on the same content, another config) reuse the model."""
        key = hashlib.sha256(
            repr(([(list(w), sorted(f)) for w, f in texts], list(labels), n_entries, MIN_DF, C, KEEP)).encode()
        ).hexdigest()
        if key not in _TRAINED:
            if len(_TRAINED) >= TRAINED_MAX:
                _TRAINED.pop(next(iter(_TRAINED)))
            _TRAINED[key] = cls._fit(texts, labels, n_entries)
        return _TRAINED[key]

    @classmethod
    def _fit(cls, texts: Sequence[Text], labels: Sequence[int], n_entries: int) -> PhrasingModel:
        from sklearn.feature_extraction.text import TfidfVectorizer  # training only: a cold start loads the cache
        from sklearn.svm import LinearSVC

        vectorizer = TfidfVectorizer(
            analyzer=features, sublinear_tf=True, min_df=MIN_DF, dtype=np.float32, lowercase=False
        )
        matrix = vectorizer.fit_transform(texts)
        model = LinearSVC(C=C, random_state=0).fit(matrix, labels)
        weights = np.zeros((matrix.shape[1], n_entries), dtype=np.float32)
        bias = np.full(n_entries, -1.0, dtype=np.float32)  # an entry with no phrasing is never predicted
        weights[:, model.classes_] = model.coef_.T
        bias[model.classes_] = model.intercept_
        return cls(dict(vectorizer.vocabulary_), vectorizer.idf_, weights, bias)

    def scores(self, text: Text) -> np.ndarray:
        """Each entry's decision value for a question (about −1 for no match, up to ~1)."""
        counts: dict[int, int] = {}
        for f in features(text):
            k = self.vocabulary.get(f)
            if k is not None:
                counts[k] = counts.get(k, 0) + 1
        if not counts:
            return self.bias.copy()
        rows = np.fromiter(counts, dtype=np.int64, count=len(counts))
        tf = np.array([1.0 + math.log(c) for c in counts.values()], dtype=np.float32) * self.idf[rows]
        tf /= np.linalg.norm(tf)
        lengths = self.start[rows + 1] - self.start[rows]
        at = np.arange(int(lengths.sum())) + np.repeat(self.start[rows] - np.cumsum(lengths) + lengths, lengths)
        kept = self.weight[at] * np.repeat(tf, lengths)  # every kept weight of the question's features
        return self.bias + np.bincount(self.entry[at], weights=kept, minlength=len(self.bias)).astype(np.float32)
