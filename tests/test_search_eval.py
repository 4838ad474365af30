"""Accuracy on questions typed the way officials type, written independently of the entries.

tests/data/eval_dev.yaml is the development set (thresholds were tuned on it); eval_holdout.yaml,
eval_fresh.yaml and eval_third.yaml were not tuned on and show how the search generalises.
"""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest
import yaml

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent


def evaluate(searcher, kb, name):
    rows = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))["questions"]
    in_scope = [r for r in rows if r["expect"]]
    off = [r for r in rows if not r["expect"]]
    assert all(r["expect"] in kb.entries for r in in_scope), "labels must be real entry ids"
    misses, false_answers = [], []
    for r in in_scope:
        res = searcher.search(r["q"])
        got = res.best.entry.id if res.matched else None
        if got != r["expect"]:
            misses.append(
                f"  {r['q']!r}: expected {r['expect']}, got {got} ({res.outcome}, {res.best.score if res.best else 0})"
            )
    for r in off:
        res = searcher.search(r["q"])
        if res.matched:
            false_answers.append(f"  {r['q']!r}: answered {res.best.entry.id} ({res.best.score})")
    accuracy = 1 - len(misses) / len(in_scope)
    decline = 1 - len(false_answers) / len(off)
    print(f"\n{name}: top-1 {accuracy:.1%} of {len(in_scope)}, off-topic declined {decline:.1%} of {len(off)}")
    print("misses:\n" + "\n".join(misses) if misses else "no misses")
    print("off-topic answered:\n" + "\n".join(false_answers) if false_answers else "no off-topic answered")
    return accuracy, decline, len(in_scope), len(off)


def test_dev_set_is_large_enough():
    rows = yaml.safe_load((DATA / "eval_dev.yaml").read_text(encoding="utf-8"))["questions"]
    assert len(rows) >= 150
    assert len({r["q"] for r in rows}) == len(rows), "no duplicate questions"


def test_dev_set_accuracy_and_decline_rate(searcher, kb):
    accuracy, decline, _, _ = evaluate(searcher, kb, "eval_dev.yaml")
    assert accuracy >= 0.90
    assert decline >= 0.85


def test_holdout_set_generalises(searcher, kb):
    accuracy, decline, _, _ = evaluate(searcher, kb, "eval_holdout.yaml")
    # Not tuned on: a floor against regressions, below the dev targets.
    assert accuracy >= 0.75
    assert decline >= 0.75


def test_fresh_set_generalises(searcher, kb):
    accuracy, decline, n_in, n_off = evaluate(searcher, kb, "eval_fresh.yaml")
    assert (n_in, n_off) == (120, 30)
    assert accuracy >= 0.75
    assert decline >= 0.75


def test_third_set_generalises(searcher, kb):
    accuracy, decline, n_in, n_off = evaluate(searcher, kb, "eval_third.yaml")
    assert (n_in, n_off) == (120, 30)
    assert accuracy >= 0.75
    assert decline >= 0.75


def test_no_reply_offers_the_same_button_twice(kb, core):
    """An alternative that is also a related entry is shown once (as the alternative)."""
    from bot.dialog import User

    twice = []
    for name in ("eval_dev.yaml", "eval_holdout.yaml", "eval_third.yaml"):
        for r in yaml.safe_load((DATA / name).read_text(encoding="utf-8"))["questions"]:
            data = [b.data for row in core.ask(User(5), r["q"]).buttons for b in row]
            if len(data) != len(set(data)):
                twice.append(r["q"])
    assert not twice, twice[:5]


# ---------------------------------------------------------------------- domain sets (issue 12)
# Written from the standard's table of contents, the fact sheet and inspection reports by a writer
# who never saw the entries; labelled by a reader of the entries who never ran the search. The dev
# set guides content and tuning; the holdout is consulted once per session (benchmarks/search.py).


def _domain(name):
    from bot import evalsets

    return evalsets.load(DATA / name)


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("eval_domain_*.yaml")))  # every set, new ones too
def test_domain_sets_are_labelled_with_real_entries(kb, name):
    rows = _domain(name)
    assert len(rows) >= 230 and len({r["q"] for r in rows}) == len(rows)
    for r in rows:
        assert set(r.get("expect") or []) <= set(kb.entries), r["q"]
        assert not (r.get("off_topic") and r.get("expect")), r["q"]
    assert sum(bool(r.get("off_topic")) for r in rows) >= 30


def test_blind_sets_run_on_the_content_their_header_names():
    """benchmarks/blind_sets.py rebuilds each set's knowledge base from the commit it names; that must be the
    content the set was consulted on, as its header says (a code commit that was never kept broke the run once)."""
    consulted = runpy.run_path(str(ROOT / "benchmarks" / "blind_sets.py"))["CONSULTED"]  # the table it runs on
    assert len(consulted) >= 12
    for name, commit in consulted.items():
        header = (DATA / name).read_text(encoding="utf-8").split("\nquestions:", 1)[0]
        assert re.search(rf"Consulted once, [^\n]*content of {commit}\b", header), (name, commit)


def test_domain_dev_set(searcher):
    """Floors a little under today's figures (top-1 99.5%, top-3 100%, confident wrong 0.8%,
    off-topic declined 100%): a change that makes the bot answer officials worse fails here."""
    from bot import evalsets

    rep = evalsets.evaluate(searcher, _domain("eval_domain_dev.yaml"), "domain dev")
    print("\n" + rep.line() + "\n" + "\n".join(sorted(rep.misses)))
    assert rep.pct(rep.top1, rep.labelled) >= 97.0
    assert rep.pct(rep.top3, rep.labelled) >= 98.5
    assert rep.pct(rep.wrong, rep.total) <= 2.5
    assert rep.pct(rep.declined_off, rep.off_topic) >= 95.0


@pytest.mark.parametrize(
    "name, top1, top3, wrong",
    # consulted holdouts, development material since: floors a little under today's figures, which
    # their misses' intents (never their questions) guided content to. At their consults: third 60.5 /
    # 75.3 / 40.0, fourth 69.3 / 83.3 / 17.5, fifth 73.4 / 86.2 / 13.8, sixth 67.0 / 83.2 / 17.1,
    # seventh 78.8 / 90.7 / 12.9, eighth 73.6 / 87.6 / 15.0, ninth 73.0 / 90.0 / 11.2 (2026-12-02, fifth
    # session), tenth 74.1 / 87.6 / 14.6 (sixth session, not tuned on yet). After content pass 5 and the
    # relabelling for its entries: holdout 95.6 / 99.5 / 1.3, third 95.8 / 99.5 / 3.8, fourth 93.6 / 97.5 /
    # 2.5, fifth 87.5 / 96.5 / 5.8, sixth 87.6 / 97.0 / 5.8, seventh 89.6 / 95.0 / 5.0, eighth 85.4 / 95.0 /
    # 7.5, ninth 84.1 / 94.0 / 6.7. Eleventh at its consult (2026-12-03): 71.9 / 87.2 / 12.1. After content
    # pass 6 and the relabelling for its entries (2026-12-03): holdout 100 / 100 / 0.0, third 98.0 / 100 / 2.1,
    # fourth 97.5 / 99.5 / 1.2, fifth 99.0 / 100 / 0.8, sixth 98.5 / 100 / 0.8, seventh 100 / 100 / 0.0,
    # eighth 98.0 / 100 / 1.2, ninth 97.6 / 99.5 / 0.4, tenth 97.0 / 98.5 / 2.1. After pass 7 (guided by
    # the eleventh's misses too): eleventh 98.5 / 99.5 / 1.7; twelfth at its consult 75.6 / 87.6 / 12.9;
    # after pass 8 (guided by the twelfth's misses too): twelfth 99.0 / 99.5 / 1.7. The phrasing classifier
    # (bot/intent.py) lowered these development sets, which content had been fitted to, by 0–5 points
    # (holdout 93.6, third 96.0, fifth 95.0, sixth 94.1, seventh 94.6, ninth 94.6, twelfth 95.5; top-3
    # stayed 99.5–100), and raised the four sets on the knowledge they were consulted at from 73.2% to
    # 79.6% (benchmarks/blind_sets.py): unseen questions are what the floors cannot see. Content pass 10
    # (2026-12-04, guided by all thirteen sets, seven new entries) brought every set to 97.6–100 / 99–100 /
    # 0–1.7 (thirteen sets: right 2,535 → 2,629, wrong 66 → 16); the floors are 2–3 points under. Pass 11
    # (guided by the fourteenth's misses too) took the fourteenth to 98.0 / 98.0 / 2.1. Pass 12 (guided by the
    # fifteenth's misses) took the fifteenth to 93.0 / 97.0 / 4.6. Pass 14 (2026-12-06, phrasings guided by the
    # fifteenth's and sixteenth's misses) took them to 96.0 / 98.0 / 3.3 and 89.3 / 97.1 / 4.6
    # (fifteenth 96.0 -> 95.5 after pass 15, which took the seventeenth to 91.7 / 95.6 / 3.8)
    [
        ("eval_domain_holdout.yaml", 97.5, 98.5, 2.0),
        ("eval_domain_third.yaml", 97.0, 98.0, 3.0),
        ("eval_domain_fourth.yaml", 97.5, 98.5, 2.0),
        ("eval_domain_fifth.yaml", 97.0, 98.5, 2.5),
        ("eval_domain_sixth.yaml", 97.0, 98.5, 2.0),
        ("eval_domain_seventh.yaml", 97.5, 98.5, 2.0),
        ("eval_domain_eighth.yaml", 97.5, 98.5, 2.0),
        ("eval_domain_ninth.yaml", 97.0, 98.5, 2.0),
        ("eval_domain_tenth.yaml", 97.0, 98.0, 2.0),
        ("eval_domain_eleventh.yaml", 97.0, 98.0, 2.5),
        ("eval_domain_twelfth.yaml", 97.5, 98.5, 2.0),
        ("eval_domain_thirteenth.yaml", 95.5, 98.0, 3.0),  # consulted once at 86b956f: 80.7 / 93.6 / 10.4
        ("eval_domain_fourteenth.yaml", 95.5, 96.5, 4.0),  # consulted once at 33259b6: 85.7 / 94.6 / 7.1
        ("eval_domain_fifteenth.yaml", 94.0, 96.5, 4.5),  # consulted once at bd34c16: 88.0 / 95.5 / 6.7
        ("eval_domain_sixteenth.yaml", 87.5, 95.5, 6.0),  # consulted once at feb667b: 86.8 / 97.1 / 7.1
        ("eval_domain_seventeenth.yaml", 89.5, 94.0, 5.5),  # once at d8314a4: 82.8 / 92.2 / 8.3; now 91.7 / 95.6 / 3.8
        ("eval_domain_eighteenth.yaml", 92.5, 98.0, 4.5),  # once at 3df21ad: 84.0 / 97.5 / 5.8; now 94.5 / 99.5 / 2.9
        ("eval_domain_nineteenth.yaml", 90.0, 96.0, 3.5),  # once at 55ca25a: 85.6 / 95.0 / 5.4; now 91.7 / 97.1 / 2.5
        ("eval_domain_twentieth.yaml", 89.0, 95.0, 4.5),  # once at 1a43075: 86.5 / 92.0 / 7.9; now 90.5 / 96.0 / 3.8
    ],
)
def test_consulted_domain_sets_do_not_fall(searcher, name, top1, top3, wrong):
    from bot import evalsets

    rep = evalsets.evaluate(searcher, _domain(name), name)
    assert rep.pct(rep.top1, rep.labelled) >= top1, rep.line()
    assert rep.pct(rep.top3, rep.labelled) >= top3, rep.line()
    assert rep.pct(rep.wrong, rep.total) <= wrong, rep.line()


def test_top3_counts_what_the_user_is_shown(kb):
    """A suggestion shows three buttons, its best first; an answer shows two offers; a decline none."""
    from bot import evalsets
    from bot.search import Hit, SearchResult

    a, b, c, d = (Hit(e, 50.0) for e in list(kb.entries.values())[:4])
    ids = [h.entry.id for h in (a, b, c, d)]
    assert evalsets.shown(SearchResult("q", "q", "suggest", a, [a, b, c])) == ids[:3]
    assert evalsets.shown(SearchResult("q", "q", "answer", a, [b, c, d])) == ids[:3]
    assert evalsets.shown(SearchResult("q", "q", "decline", a, [])) == []

    class Fixed:
        def search(self, q):
            return SearchResult(q, q, "suggest", a, [a, b, c])

    rep = evalsets.evaluate(Fixed(), [{"q": "x", "expect": [ids[2]]}, {"q": "y", "expect": [ids[3]]}])
    assert (rep.top1, rep.top3, rep.wrong) == (0, 1, 0)
