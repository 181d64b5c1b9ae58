"""Shell completion: event slugs from file names, topics from an index on disk (typer's bash protocol)."""

from __future__ import annotations

from tests.conftest import run_newsarc


def complete(words: str, cwd, cache_dir) -> list[str]:
    env = {"_NEWSARC_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - 1)}
    done = run_newsarc(env={**env, "NEWSARC_CACHE_DIR": str(cache_dir)}, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return [line for line in done.stdout.splitlines() if line]


def test_slugs_complete_from_file_names_without_an_index(builder, tmp_path):
    builder.event("2017-08-25", "Hurricane Harvey makes landfall near Rockport")
    builder.event("2017-08-29", "Harvey sets a record for rainfall")
    cache = tmp_path / "cache"
    assert complete("newsarc show hurr", builder.root, cache) == ["hurricane-harvey-makes-landfall-near-rockport"]
    assert complete("newsarc related har", builder.root, cache) == ["harvey-sets-a-record-for-rainfall"]
    assert not cache.exists()  # a TAB never builds an index


def test_topics_complete_once_an_index_exists(builder, tmp_path):
    builder.event("2015-09-16", "Coup in Ouagadougou", related=[("x", "/news/2015/09/17/x.md", ["2015 Burkinabé coup d'état"])])
    builder.event("2015-09-17", "Mediators meet", related=[("y", "/news/2015/09/16/y.md", ["Burkina Faso"])])
    cache = tmp_path / "cache"
    assert complete("newsarc timeline Burk", builder.root, cache) == []  # no index yet: nothing built for a TAB
    assert run_newsarc("topics", "--archive", str(builder.root), env={"NEWSARC_CACHE_DIR": str(cache)}).returncode == 0
    assert complete("newsarc timeline Burk", builder.root, cache) == ["Burkina Faso"]
    assert complete("newsarc list-by-date 2015 --topic 2015", builder.root, cache) == ["2015 Burkinabé coup d'état"]


def test_install_completion_is_offered():
    done = run_newsarc("--help")
    assert "--install-completion" in done.stdout and "--show-completion" in done.stdout
