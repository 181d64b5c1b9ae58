"""Shell completion of event slugs and topic names (typer's --install-completion).

Slugs are 150 characters long: nobody types them. Completing them must not
cost a first index build (25 s at 100k events) on a TAB, so slugs come from the
file names alone, and topics only from an index already on disk.
"""

from __future__ import annotations

import os

_MOST = 200  # a shell lists what we return; past a screenful it helps no one


def event_slugs(ctx, incomplete: str) -> list[str]:
    """Slugs of event files starting with what was typed (file names only: no parse, no index)."""
    site = _archive(ctx)
    if site is None:
        return []
    found: list[str] = []
    for folder, subfolders, files in os.walk(site.scope):
        subfolders[:] = [d for d in subfolders if not d.startswith(".")]
        for name in files:
            if name.endswith(".md") and name != "index.md" and name.startswith(incomplete):
                found.append(name[:-3])
    return sorted(set(found))[:_MOST]


def topic_names(ctx, incomplete: str) -> list[str]:
    """Topic names starting with what was typed (case and accents aside), from an index on disk."""
    from newsarc.features.catalog import Catalog

    site = _archive(ctx)
    catalog = None if site is None else Catalog(site, cache_dir=site.cache_dir, use_cache=site.use_cache)
    if catalog is None or not catalog.on_disk():
        return []
    from newsarc.reading.topic_names import fold

    wanted = fold(incomplete)
    names = [spellings[0] for spellings, _ in catalog.topic_groups().values()]
    return sorted(name for name in names if fold(name).startswith(wanted))[:_MOST]


def _archive(ctx):
    """The archive the command line names so far (or NEWSARC_ARCHIVE, or here); None if there is none."""
    from newsarc.archive import Archive
    from newsarc.errors import NewsarcError

    params = getattr(ctx, "params", {}) or {}
    try:
        return Archive.open(params.get("archive"), params.get("root"))
    except (NewsarcError, OSError):
        return None

