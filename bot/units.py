"""Administrative units after the 2025 reform: 34 provinces, 3,321 communes/wards/special zones.

The official list comes from the ``vietnam-provinces`` package (no network at run time). Users type
the name the way they text it ("xa Loc Binh", "p. Tam Thanh"); we fold it and match with rapidfuzz.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from bot.text import fold

_PREFIXES = {"p": "phuong", "x": "xa", "tt": "thi tran", "dk": "dac khu"}
_PREFIX_RX = re.compile(r"^(p|x|tt|dk)\b\.?\s*")
_KIND_WORDS = ("phuong", "xa", "dac khu", "thi tran")
MATCH_CUTOFF = 75


@dataclass(frozen=True)
class Place:
    """A commune-level unit or a province from the official list."""

    code: int
    name: str  # "Xã Lộc Bình"
    kind: str  # "xã" | "phường" | "đặc khu" | "tỉnh" | "thành phố trung ương"
    province_code: int
    province_name: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.province_name})" if self.province_name != self.name else self.name


@lru_cache(maxsize=1)
def provinces() -> dict[int, Place]:
    """Province code → Place, in the official order."""
    from vietnam_provinces import Province

    out = {}
    for p in Province.iter_all():
        short = re.sub(r"^(Thành phố|Tỉnh)\s+", "", p.name)
        out[int(p.code)] = Place(int(p.code), short, p.division_type.value, int(p.code), short)
    return out


@lru_cache(maxsize=1)
def wards() -> dict[int, Place]:
    """Ward code → Place for every commune, ward and special zone."""
    from vietnam_provinces import Ward

    provs = provinces()
    return {
        int(w.code): Place(
            int(w.code), w.name, w.division_type.value, int(w.province_code), provs[int(w.province_code)].name
        )
        for w in Ward.iter_all()
    }


@lru_cache(maxsize=1)
def _ward_keys() -> tuple[list[str], list[str], list[int]]:
    """Folded full names ("xa loc binh"), folded bare names ("loc binh") and codes, in one order."""
    full, bare, codes = [], [], []
    for code, w in wards().items():
        f = fold(w.name)
        full.append(f)
        bare.append(_strip_kind(f))
        codes.append(code)
    return full, bare, codes


def _strip_kind(folded: str) -> str:
    for k in _KIND_WORDS:
        if folded.startswith(k + " "):
            return folded[len(k) + 1 :]
    return folded


def find_province(text: str) -> Place | None:
    """The province whose name best matches ``text`` ("lang son", "TP HCM" is not guessed)."""
    if not text:
        return None
    if str(text).isdigit():
        return provinces().get(int(text))
    names = {code: fold(p.name) for code, p in provinces().items()}
    best = process.extractOne(fold(str(text)), names, scorer=fuzz.ratio, score_cutoff=80)
    return provinces()[best[2]] if best else None


def provinces_named(text: str) -> list[Place]:
    """The provinces whose name ``text`` contains as whole words, marked or not ("Sở KH&CN tỉnh Lạng
    Sơn", "so kh&cn tinh lang son"), in the official order; usually one, none when no name is there."""
    folded = f" {fold(text)} "
    return [p for p in provinces().values() if f" {fold(p.name)} " in folded]


def agency_key(name: str, province: Place, expansions: dict[str, str]) -> str:
    """What two spellings of one agency share: folded, abbreviations expanded (``expansions``: folded
    variant → folded expansion, from the glossary), without the province's name; "So KH&CN tinh Lang
    Son" and "Sở Khoa học và Công nghệ tỉnh Lạng Sơn" give the same key."""
    folded = f" {fold(name)} "
    if expansions:
        words = sorted(expansions, key=len, reverse=True)
        rx = re.compile(r"(?<= )(" + "|".join(re.escape(w) for w in words) + r")(?= )")
        folded = rx.sub(lambda m: expansions[m.group(1)], folded)
    folded = re.sub(rf" (?:tinh |thanh pho |tp )?{re.escape(fold(province.name))} ", " ", folded)
    return " ".join(folded.split())


HOME_MATCH = 90  # a name of the configured province this close (0–100) hides other provinces' matches


def match_wards(text: str, province_code: int | None = None, limit: int = 5) -> list[Place]:
    """Communes/wards whose name matches what the user typed, best first; the user's province wins ties."""
    q = fold(text)
    q = _PREFIX_RX.sub(lambda m: _PREFIXES[m.group(1)] + " ", q).strip()
    if not q:
        return []
    full, bare, codes = _ward_keys()
    has_kind = any(q.startswith(k + " ") for k in _KIND_WORDS)
    choices = full if has_kind else bare
    scored = process.extract(q, choices, scorer=fuzz.ratio, limit=40, score_cutoff=MATCH_CUTOFF)
    ranked = []
    for _, score, idx in scored:
        place = wards()[codes[idx]]
        bonus = 5 if province_code and place.province_code == province_code else 0
        ranked.append((score + bonus, place))
    ranked.sort(key=lambda x: (-x[0], x[1].name))
    home = max((s - 5 for s, p in ranked if province_code and p.province_code == province_code), default=0)
    if home >= HOME_MATCH:
        # "xa loc binh" in Lạng Sơn means Lộc Bình: another province's place that matches no better is
        # noise ("xa loc ninh" still offers Lộc Ninh, Đồng Nai, which matches it exactly)
        ranked = [(s, p) for s, p in ranked if p.province_code == province_code or s > home]
    return [p for _, p in ranked[:limit]]


def match_registered_names(units: list[dict], text: str) -> tuple[list[dict], list[str]]:
    """Registered units (dicts with id and name) named in ``text``, comma- or line-separated ("Lộc Bình,
    Tam Thanh"), each matched with rapidfuzz at 85 or more and at most once; and the names typed that
    matched none, so that nothing is dropped silently."""
    names = {u["id"]: fold(u["name"]) for u in units}
    out: list[dict] = []
    missed: list[str] = []
    for part in re.split(r"[,;\n]+", text):
        if not part.strip():
            continue
        best = process.extractOne(fold(part), names, scorer=fuzz.WRatio, score_cutoff=85)
        if best:
            unit = next(u for u in units if u["id"] == best[2])
            if unit not in out:
                out.append(unit)
        else:
            missed.append(part.strip()[:60])
    return out, missed
