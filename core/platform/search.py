"""Search normalisation shared by every name search (parents' directory, staff pickers).

A name becomes a *search key*: its words case-folded, ё = е, Kazakh letters folded onto their
Russian look-alikes (қ/к, ғ/г, ң/н, ү/ұ/у, ө/о, ә/а, і/и, һ/х), punctuation, quotes and "№"
dropped, digits split from letters, and a word typed in Latin letters read as Cyrillic
("Aqqu", "Akku" = "Аққу"; "Samal" = "Самал"). The key is computed here, in Python, and stored
with the row, so SQLite (whose LIKE folds ASCII only) and PostgreSQL find the same rows.

A query matches a key when every query word matches a word of the key: a number exactly, other
words as a prefix, and a word of 5 letters or more also with one typo (one letter added,
missing, replaced or two swapped). Generic words ("детский", "сад", "балабақшасы") do not
narrow a query that has other words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Kazakh letters and ё onto the Russian letters a Russian keyboard types instead.
_FOLD = str.maketrans(
    {
        "ё": "е",
        "қ": "к",
        "ғ": "г",
        "ң": "н",
        "ү": "у",
        "ұ": "у",
        "ө": "о",
        "ә": "а",
        "і": "и",
        "һ": "х",
        "i": "и",  # a Latin "i" typed for the Kazakh "і" (the same key on many layouts)
    }
)
_WORDS = re.compile(r"\d+|[^\W\d_]+")
# Latin spellings parents type for Russian and Kazakh names: the official Kazakh Latin alphabet
# (q, ğ, ñ, ä, ö, ü, ū, ı, ş, ç, j) and the usual Russian transliteration (sh, ch, zh, kh, ya,
# yu). Longest first. "ts" stays т+с ("detskiy" is "детский"); "y" after a vowel is "й", at the
# start of ya/yu/ye/yo a soft vowel, otherwise "ы" ("Solnyshko", "Baldyrgan").
_LATIN_WORD = re.compile(r"[a-zäöüūğşçñı]+")
_LATIN_PAIRS = {
    "shch": "щ",
    "sh": "ш",
    "ch": "ч",
    "zh": "ж",
    "kh": "х",
    "gh": "г",
    "ya": "я",
    "yu": "ю",
    "ye": "е",
    "yo": "е",
    "ck": "к",
}
_LATIN_LETTERS = str.maketrans(
    {
        "a": "а",
        "b": "б",
        "c": "к",
        "d": "д",
        "e": "е",
        "f": "ф",
        "g": "г",
        "h": "х",
        "i": "и",
        "j": "ж",
        "k": "к",
        "l": "л",
        "m": "м",
        "n": "н",
        "o": "о",
        "p": "п",
        "q": "к",
        "r": "р",
        "s": "с",
        "t": "т",
        "u": "у",
        "v": "в",
        "w": "у",
        "x": "кс",
        "z": "з",
        "ä": "а",
        "ö": "о",
        "ü": "у",
        "ū": "у",
        "ğ": "г",
        "ş": "ш",
        "ç": "ч",
        "ñ": "н",
        "ı": "и",
    }
)
_LATIN_TOKEN = re.compile("|".join(sorted(_LATIN_PAIRS, key=len, reverse=True)) + "|y|.")
_VOWELS = frozenset("aeiouäöüūı")
TYPO_MIN_LENGTH = 5  # words this long tolerate one typo
NO_NUMBER = 10**9  # names without a number sort after the numbered ones
# Words of a kindergarten's kind, in either language: they do not narrow a query with a name.
GENERIC_WORDS = frozenset(
    {
        "детскии",
        "детский",
        "сад",
        "ясли",
        "мини",
        "центр",
        "балабакша",
        "балабакшасы",
        "бобекжаи",
        "бобекжай",
        "бакша",
        "бакшасы",
        "шагын",
        "орталык",
        "орталыгы",
    }
)


def words(text: str) -> list[str]:
    """The normalised words of a text, in order (duplicates kept)."""
    lowered = unicodedata.normalize("NFC", text).casefold()
    return [
        (cyrillic(word) if _LATIN_WORD.fullmatch(word) else word).translate(_FOLD)
        for word in _WORDS.findall(lowered)
    ]


def cyrillic(word: str) -> str:
    """A lower-case word typed in Latin letters, read as the Cyrillic a parent meant."""
    out: list[str] = []
    previous = ""
    for token in _LATIN_TOKEN.findall(word):
        if token in _LATIN_PAIRS:
            out.append(_LATIN_PAIRS[token])
        elif token == "y":
            out.append("й" if previous in _VOWELS else "ы")
        else:
            out.append(token.translate(_LATIN_LETTERS))
        previous = token[-1]
    return "".join(out)


def search_key(*names: str) -> str:
    """The stored key of a row named `names` (e.g. its Russian and Kazakh names): its distinct
    words between single spaces, with a space at both ends so that SQL can look for " word"."""
    seen: dict[str, None] = {}
    for name in names:
        for word in words(name):
            seen.setdefault(word, None)
    return " " + " ".join(seen) + " " if seen else ""


@dataclass(frozen=True)
class Query:
    """A typed search, normalised: the words that must match, and the optional ones."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.required

    def narrowing(self) -> tuple[str, ...]:
        """Substrings, any of which every matching key contains: for SQL to narrow the rows
        before `score` ranks them. The longest word decides; a word that tolerates a typo
        gives both halves (one typo leaves one of them intact)."""
        if not self.required:
            return ()
        word = max(self.required, key=lambda w: (w.isdigit(), len(w)))
        if word.isdigit():
            return (f" {word} ",)
        if len(word) < TYPO_MIN_LENGTH:
            return (f" {word}",)
        middle = len(word) // 2
        return (word[:middle], word[middle:])


def parse(text: str) -> Query:
    """The words of a typed query; generic words become optional when a name is given too."""
    typed = list(dict.fromkeys(words(text)))
    specific = [w for w in typed if w not in GENERIC_WORDS]
    if specific:
        return Query(tuple(specific), tuple(w for w in typed if w in GENERIC_WORDS))
    return Query(tuple(typed))


def score(query: Query, key: str) -> int | None:
    """How well `key` matches (higher is better), or None when some required word does not."""
    found = _match(query, key)
    return None if found is None else found[0]


def rank(query: Query, keys: Iterable[tuple[int, str]]) -> list[int]:
    """The ids whose key matches, best first (ties keep the given order). Matches that need a
    typo are given only when nothing matches without one."""
    rows = list(keys)
    if query.empty:
        return [row_id for row_id, _ in rows]
    scored = []
    for n, (row_id, key) in enumerate(rows):
        found = _match(query, key)
        if found is not None:
            scored.append((found[1], found[0], n, row_id))
    if any(exact for exact, *_ in scored):
        scored = [item for item in scored if item[0]]
    scored.sort(key=lambda item: (-item[1], item[2]))
    return [row_id for *_, row_id in scored]


def natural_key(text: str) -> tuple[int, list[tuple[int, int | str]]]:
    """Sort key for kindergarten names: by their number ("Детский сад №3" before "Ясли-сад
    №10"), then word by word with numbers as numbers; names without a number last."""
    parts: list[tuple[int, int | str]] = [
        (0, int(w)) if w.isdigit() else (1, w) for w in words(text)
    ]
    number = next((int(value) for kind, value in parts if kind == 0), NO_NUMBER)
    return number, parts


def within_one_edit(a: str, b: str) -> bool:
    """True when `a` becomes `b` by at most one insertion, deletion, substitution or swap of
    two neighbouring letters."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    i = 0
    while i < min(la, lb) and a[i] == b[i]:
        i += 1
    if la == lb:
        if a[i + 1 :] == b[i + 1 :]:
            return True  # one substitution
        return a[i : i + 2] == b[i : i + 2][::-1] and a[i + 2 :] == b[i + 2 :]  # a swap
    if la > lb:
        return a[i + 1 :] == b[i:]
    return a[i:] == b[i + 1 :]


# --- helpers ----------------------------------------------------------------------------------

_EXACT, _PREFIX, _TYPO = 3, 2, 1


def _match(query: Query, key: str) -> tuple[int, bool] | None:
    """(score, True when no word needed a typo), or None when a required word does not match."""
    key_words = key.split()
    total, exact = 0, True
    for word in query.required:
        best = _word_score(word, key_words)
        if best is None:
            return None
        total += best
        exact = exact and best > _TYPO
    for word in query.optional:
        total += _word_score(word, key_words) or 0
    return total, exact


def _word_score(word: str, key_words: Sequence[str]) -> int | None:
    best: int | None = None
    for candidate in key_words:
        if word.isdigit() or candidate.isdigit():
            found = _EXACT if candidate == word else None
        elif candidate == word:
            found = _EXACT
        elif candidate.startswith(word):
            found = _PREFIX
        elif len(word) >= TYPO_MIN_LENGTH and _typo_prefix(word, candidate):
            found = _TYPO
        else:
            found = None
        if found is not None and (best is None or found > best):
            best = found
    return best


def _typo_prefix(word: str, candidate: str) -> bool:
    """`word` is a prefix of `candidate` with one typo."""
    n = len(word)
    return any(
        within_one_edit(word, candidate[:length])
        for length in (n - 1, n, n + 1)
        if 0 < length <= len(candidate)
    )
