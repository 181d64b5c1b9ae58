"""What the commands do, on top of the archive and its index: lookups, search, related events, the link checks, the overview.

Each feature that keeps tables in the SQLite index registers its group when its
module is imported; here every feature says which module that is, so that any
command keeps up to date the groups an index holds (index/db.register_module).
"""

from newsarc.index import db as _db

for _name, _module in (
    ("events", "newsarc.features.catalog"),
    ("links", "newsarc.features.linkcheck.link_tables"),
    ("search", "newsarc.features.search.word_index"),
    ("words", "newsarc.features.search.word_index"),
    ("text", "newsarc.features.related.text_stats"),
    ("counts", "newsarc.features.stats"),
    ("search_lengths", "newsarc.features.search"),
):
    _db.register_module(_name, _module)
