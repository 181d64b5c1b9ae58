"""What was read, kept for the next run and never stale: the SQLite index.

`db` holds the schema and the connection, `freshness` the rules, `build` brings
an index up to date, `parallel` parses on every core, and `cache` says where
the index lives and clears what older runs left there. Features say what they
need stored through `db.register` (features/__init__.py names the modules).
"""
