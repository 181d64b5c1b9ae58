"""An event's words as related's text model reads them, and as the index keeps them for it.

A pure function of the text, below the index and the features: the index stores
each event's normalized words, related's model (features/related/text_model.py) scores
them, and neither owns the other's rules. Each text becomes lowercase UTF-8 in
which tokens are separated by spaces (` syria s army offensive `), so a whole
token is found with a plain pattern (` army `) and no Python code runs per token.
"""

from __future__ import annotations

MIN_LENGTH = 3  # shorter tokens ("us", "al") are mostly noise

_ASCII_DELIMITERS = bytes(range(0, 48)) + bytes(range(58, 65)) + bytes(range(91, 97)) + bytes(range(123, 128))
_UPPER = bytes(range(65, 91))
# One pass over the bytes: ASCII capitals to lowercase, ASCII punctuation and spaces to a space.
_TABLE = bytes.maketrans(_ASCII_DELIMITERS + _UPPER, b" " * len(_ASCII_DELIMITERS) + _UPPER.lower())
# Non-ASCII punctuation common in news copy; other non-ASCII characters count as letters.
_UNICODE_DELIMITERS = (
    "\u2018\u2019\u201a\u201c\u201d\u201e\u00ab\u00bb\u2013\u2014\u2026\u00a0\u2022\u00b7\u2032\u2033\u2010\u2011\u2212"
)

STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have having
    he her here hers herself him himself his how i if in into is it its itself just more most my myself no nor
    not now of off on once only or other our ours ourselves out over own same she should so some such than that
    the their theirs them themselves then there these they this those through to too under until up very was we
    were what when where which while who whom why will with would you your yours yourself yourselves
    said says say told according since among amid within without upon via per one two three four five six
    seven eight nine ten first second third new least many much several including include includes however
    """.encode().split()
)


def normalize(text: str) -> bytes:
    """Lowercase UTF-8 with every delimiter a space, and a space at both ends: tokens are ` t `."""
    if not text.isascii():  # ASCII text is lowercased by the byte table, four times faster
        text = text.lower()
        for char in _UNICODE_DELIMITERS:
            if char in text:
                text = text.replace(char, " ")
    return b" " + text.encode("utf-8", "replace").translate(_TABLE) + b" "


def count(text: bytes, term: bytes) -> int:
    """How often `term` occurs as a token of a normalized text.

    `bytes.count` does not see the second of two adjacent equal tokens (they share
    a space), so the rare text where they meet is counted token by token.
    """
    found = text.count(b" " + term + b" ")
    if found and b" " + term + b" " + term + b" " in text:
        return text.split().count(term)
    return found


def useful(term: bytes) -> bool:
    """Whether a token can stand for a document: no stopwords, numbers or very short tokens."""
    return len(term) >= MIN_LENGTH and term not in STOPWORDS and not term.isdigit()


def tokenize(text: str) -> list[str]:
    """The words of `text` that can act as query terms."""
    return [t.decode("utf-8", "replace") for t in normalize(text).split() if useful(t)]
