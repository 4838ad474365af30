"""What the search returns for every question we have, to prove a change of the index changes nothing.

    .venv/bin/python benchmarks/search_snapshot.py --save before.json    # on the old code
    .venv/bin/python benchmarks/search_snapshot.py --check before.json   # on the new code

Questions: every eval set in tests/data (eval_dev, eval_domain_dev, the holdouts) and every title and
example question of the real knowledge base (asked of the real base, or with --scale of the synthetic
one of benchmarks/search.py). For each: outcome, the best entry and the top 5 of the
ranking with their scores (and rank keys, rounded), and the alternatives the gate offers.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import config as config_mod  # noqa: E402
from bot import loader  # noqa: E402
from bot.search import Searcher  # noqa: E402


def questions(kb) -> list[str]:
    out = []
    for path in sorted((ROOT / "tests" / "data").glob("eval_*.yaml")):
        out += [r["q"] for r in yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]]
    for e in kb.entries.values():
        out += [e.title, *e.questions]
    return list(dict.fromkeys(out))


def snapshot(scale: int = 1) -> dict[str, dict]:
    cfg = config_mod.load(ROOT / "config.yaml", env={})
    kb = loader.load(cfg.knowledge_dir)
    asked = questions(kb)
    if scale > 1:
        from benchmarks.search import synthetic

        kb = synthetic(kb, scale)
    s = Searcher(kb, cfg.search)
    out = {}
    for q in asked:
        r = s.search(q)
        _, ranked = s.rank(q, 5)
        out[q] = {
            "outcome": r.outcome,
            "best": r.best.entry.id if r.best else None,
            "score": r.best.score if r.best else None,
            "alternatives": [[h.entry.id, h.score] for h in r.alternatives],
            "top5": [[h.entry.id, h.score, round(h.rank_key, 4)] for h in ranked],
        }
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = ap.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", type=Path)
    group.add_argument("--check", type=Path)
    ap.add_argument("--scale", type=int, default=1, help="on the synthetic base of benchmarks/search.py")
    args = ap.parse_args()
    now = snapshot(args.scale)
    if args.save:
        args.save.write_text(json.dumps(now, ensure_ascii=False, indent=0), encoding="utf-8")
        print(f"saved {len(now)} questions to {args.save}")
        return 0
    before = json.loads(args.check.read_text(encoding="utf-8"))
    differ = [q for q in before if before[q] != now.get(q)]
    top1 = [
        q
        for q in before
        if before[q]["best"] != (now.get(q) or {}).get("best")
        or before[q]["outcome"] != (now.get(q) or {}).get("outcome")
    ]
    print(
        f"{len(before)} questions: {len(before) - len(differ)} identical in every field, "
        f"{len(top1)} with another best entry or outcome"
    )
    for q in differ[:20]:
        print(f"  {q!r}\n    before {before[q]}\n    now    {now.get(q)}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
