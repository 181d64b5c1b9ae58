"""The index on SQLite (issue 18), a design spike: `db` holds the schema, the connection and the
build; features say what they need stored through `db.register` (`tables` sketches theirs).
Nothing here is wired into the commands yet; bench/SQLITE.md has the measurements."""
