"""Close names for broken links: file names a small edit distance from a missing one.

Pure functions over a folder listing (no filesystem, no archive), so
`validate-links` can offer "did you mean" suggestions and tests can check
the distance on its own.
"""

from __future__ import annotations

from newsarc.reading.parser import DAY_PAGE


def close_names(name: str, listing: dict[str, bool]) -> list[str]:
    """File names within a small edit distance of `name`, same extension, closest first."""
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    limit = max(1, min(6, len(stem) // 10))
    scored = []
    for other, is_dir in listing.items():
        if is_dir or other == DAY_PAGE or other.startswith(".") or other == name:
            continue
        other_stem, other_dot, other_ext = other.rpartition(".")
        if not other_dot:
            other_stem, other_ext = other, ""
        if other_ext != ext:
            continue
        distance = edit_distance(stem, other_stem, limit)
        if distance <= limit:
            scored.append((distance, other))
    return [other for _, other in sorted(scored)]


def close_slugs(wanted: str, paths: list[str], slugs: list[str], most: int = 5) -> list[str]:
    """Paths of events whose slug is close to a slug (or slug prefix) that matched none.

    Users type the start of a slug, so the slug's start (give or take a few
    letters) is what is compared; events holding every word typed, in another
    order, come next. Only slugs sharing four letters with a word typed are
    measured at all: this runs over 100k slugs when a lookup fails."""
    words = [w for w in wanted.split("-") if w]
    pieces = {part for w in words if len(w) >= 4 for part in (w[:4], w[-4:])} or {wanted}
    limit = max(1, min(4, len(wanted) // 6))
    typos, reordered = [], []
    for path, slug in zip(paths, slugs):
        if not any(piece in slug for piece in pieces):
            continue
        distance = min(edit_distance(wanted, slug[:n], limit) for n in range(len(wanted) - limit, len(wanted) + limit + 1))
        if distance <= limit:
            typos.append((distance, path))
        elif all(word in slug for word in words):
            reordered.append(path)
    return [path for _, path in sorted(typos)][:most] + reordered[: max(0, most - len(typos))]


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, or limit + 1 as soon as it must exceed `limit`.

    Common prefix and suffix are dropped first and only a band of width
    2*limit+1 is computed, with an early exit: unrelated 150-character slugs
    cost a few hundred steps, not 22,500.
    """
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    start = 0
    while start < len(a) and start < len(b) and a[start] == b[start]:
        start += 1
    end_a, end_b = len(a), len(b)
    while end_a > start and end_b > start and a[end_a - 1] == b[end_b - 1]:
        end_a -= 1
        end_b -= 1
    a, b = a[start:end_a], b[start:end_b]
    if not a or not b:
        return len(a) + len(b)
    over = limit + 1
    previous = [j if j <= limit else over for j in range(len(b) + 1)]
    for i in range(1, len(a) + 1):
        low, high = max(1, i - limit), min(len(b), i + limit)
        current = [over] * (len(b) + 1)
        current[0] = i if i <= limit else over
        char = a[i - 1]
        for j in range(low, high + 1):
            cost = previous[j - 1] + (char != b[j - 1])
            current[j] = min(cost, previous[j] + 1, current[j - 1] + 1, over)
        if min(current[max(0, low - 1) : high + 1]) > limit:
            return over
        previous = current
    return previous[len(b)]
