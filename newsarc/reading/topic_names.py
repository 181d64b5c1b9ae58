"""How topic names compare: without case, accents, punctuation or dashes.

Topic names are typed by people who do not remember `Burkinabé` or `d'état`,
and archives spell one topic several ways (`Syrian army`, `Syrian Army`), so
every topic comparison in newsarc goes through `fold`.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from newsarc.model import Event

# Letters NFKD does not decompose into a base letter and an accent.
_LETTERS = str.maketrans({"ø": "o", "đ": "d", "ð": "d", "æ": "ae", "œ": "oe", "ł": "l", "þ": "th", "ı": "i", "ħ": "h"})
_NON_WORD = re.compile(r"[\W_]+")
_ABBREVIATION = re.compile(r"(?:[A-Z]\.)+|Jr\.|Sr\.|Inc\.|Ltd\.")
_NUMBER = re.compile(r"\d+(?:[-–/]\d+)?")  # "2015", "2015–16": a year that ends a name


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Case, accents, punctuation, dashes and apostrophes removed; words kept apart.

    `2015 Burkinabé coup d'état` -> `2015 burkinabe coup d etat`. Casefolding
    runs before and after NFKD because each can produce what the other folds.
    """
    text = unicodedata.normalize("NFKD", text.casefold().translate(_LETTERS))
    text = "".join(c for c in text if not unicodedata.category(c).startswith("M"))
    text = unicodedata.normalize("NFKD", text.casefold().translate(_LETTERS))
    text = "".join(c for c in text if not unicodedata.category(c).startswith("M"))
    return " ".join(_NON_WORD.sub(" ", text).split())


def compact(folded: str) -> str:
    """Folded text without spaces, so `detat`, `d etat` and `d'état` agree."""
    return folded.replace(" ", "")


def with_topics(events: Iterable[Event], topics: Sequence[str]) -> list[Event]:
    """The events carrying any of `topics` (the `--topic` filter of every command)."""
    wanted = {fold(t) for t in topics}
    return [e for e in events if any(fold(t) in wanted for t in e.topics)]


def topic_key(name: str) -> str:
    """The folded name topics are grouped under (a name of punctuation alone stays itself)."""
    return fold(name) or name


def group_names(names: Iterable[Sequence[str]]) -> dict[str, tuple[list[str], list[int]]]:
    """Each event's topic names -> folded name -> (its spellings, most used first; positions of
    its events, ascending). An event with two spellings of a topic counts once."""
    keys: dict[str, str] = {}  # a few thousand names over 100k events: each folded once
    spellings: dict[str, Counter] = {}
    members: dict[str, dict[int, None]] = {}
    for k, topics in enumerate(names):
        for name in topics:
            key = keys.get(name)
            if key is None:
                key = keys[name] = topic_key(name)
                if key not in spellings:
                    spellings[key], members[key] = Counter(), {}
            spellings[key][name] += 1
            members[key][k] = None
    return {key: (sorted(counts, key=lambda s: (-counts[s], s)), list(members[key])) for key, counts in spellings.items()}


def split_topics(text: str) -> list[str]:
    """Split a `_Context:` list without breaking names that contain commas.

    Topic names like `Faroese general election, 2015` or `Washington, D.C.`
    contain ", ": a piece that is only a number (a year), starts with a
    lowercase letter, or is an abbreviation continues the previous name;
    `2000 Finland earthquake` starts a new one.
    """
    topics: list[str] = []
    for piece in text.split(","):
        piece = " ".join(piece.split())
        if not piece:
            continue
        if topics and (_NUMBER.fullmatch(piece) or piece[0].islower() or _ABBREVIATION.fullmatch(piece)):
            topics[-1] = f"{topics[-1]}, {piece}"
        else:
            topics.append(piece)
    return topics
