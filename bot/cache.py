"""A pickled copy of the loaded knowledge base and its search index, so that a cold start
(`isobot ask`, a bot restart) skips YAML parsing and indexing.

The file name is a hash of every file in the knowledge folder, the core's source code and the
Python and numpy versions: a curator's edit or a code update makes a new key, and the stale file is
removed when the new one is written. A missing, unreadable or corrupt cache is simply rebuilt;
`isobot kb check` never uses it. Only files this program wrote are ever loaded.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import os
import pickle
import sys
import tempfile
from pathlib import Path

import numpy as np

from bot import loader
from bot.config import Config
from bot.knowledge import KnowledgeBase
from bot.search import Searcher

log = logging.getLogger(__name__)
CORE = Path(__file__).resolve().parent


def cache_key(knowledge_dir: Path) -> str:
    """Hash of the knowledge files (paths and bytes), the bot/ sources and the runtime versions."""
    trainer = importlib.metadata.version("scikit-learn")  # the phrasing classifier's weights are its output
    h = hashlib.sha256(f"{sys.version}|{np.__version__}|{trainer}|{pickle.HIGHEST_PROTOCOL}".encode())
    for root in (Path(knowledge_dir), CORE):
        pattern = "*.py" if root == CORE else "*"
        for path in sorted(p for p in root.rglob(pattern) if p.is_file() and "__pycache__" not in p.parts):
            h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:24]


def load_indexed(config: Config) -> tuple[KnowledgeBase, Searcher]:
    """The knowledge base and its index: from the cache when it matches, else built (and cached)."""
    path = None
    if config.cache_dir is not None:
        path = config.cache_dir / f"index-{cache_key(config.knowledge_dir)}.pickle"
        try:
            with path.open("rb") as f:
                kb, searcher = pickle.load(f)
            searcher.config = config.search  # thresholds may come from the environment of this run
            return kb, searcher
        except FileNotFoundError:
            pass
        except Exception as exc:  # noqa: BLE001 - a corrupt or foreign cache is rebuilt, never fatal
            log.warning("ignoring unreadable search cache %s: %s", path, exc)
    kb = loader.load(config.knowledge_dir)
    searcher = Searcher(kb, config.search)
    if path is not None:
        _store(path, (kb, searcher))
    return kb, searcher


def _store(path: Path, value: object) -> None:
    """Write atomically, then remove older caches; a read-only disk only costs the speed-up."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", delete=False) as tmp:
            pickle.dump(value, tmp, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp.name, path)
        for old in path.parent.glob("index-*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("could not write search cache %s: %s", path, exc)
