"""What was read, kept for the next run and never stale.

Today's index is `store` (columns and blobs, with `cache` for where it lives and
`answers` for what is worked out from it). Its replacement on SQLite is built and
tested beside it (issue 18; bench/SQLITE.md): `db` holds the schema and the
connection, `freshness` the rules, `build` brings an index up to date, `parallel`
parses on every core, and features say what they need stored through
`db.register` (features/index_tables.py sketches their groups).
"""
