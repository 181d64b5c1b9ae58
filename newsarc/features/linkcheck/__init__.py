"""`validate-links`: every internal link of every file checked offline (checks.py), the facts that let
it read only the files that may have something to report (facts.py, or the catalogue's links group:
link_tables.py), every file's links for --reciprocal, --dump and --external (every_link.py), the
http(s) links checked over the network (external.py, external_findings.py, url_cache.py), and the
rewrites of --fix (fix.py).
"""
