"""newsarc/index/parallel.py: results in order, a bounded number of tasks in flight, dead workers
costing time and never the answer; and a build on several processes equal to one on one."""

from __future__ import annotations

import os
import signal

import pytest

from newsarc.index import build, parallel
from tests.index_truth import CLOCK, assert_true_to, held


def square(n: int) -> int:
    return n * n


def suicidal(n: int) -> int:
    """Kills the worker that runs task 5 (the parent, which does it again, survives)."""
    if n == 5 and os.getpid() != PARENT:
        os.kill(os.getpid(), signal.SIGKILL)
    return n * n


PARENT = os.getpid()


@pytest.fixture
def two_workers(monkeypatch):
    monkeypatch.delenv("NEWSARC_WORKERS", raising=False)
    if parallel.workers() < 2:
        pytest.skip("one core: nothing runs in parallel")


@pytest.mark.parametrize("count", [1, 2, 3])
def test_results_come_in_order(count):
    assert list(parallel.ordered(square, range(50), count)) == [n * n for n in range(50)]


@pytest.mark.parametrize("in_flight", [1, 2])
def test_tasks_in_flight_are_bounded(in_flight):
    """The next task is drawn only once the oldest answer is taken: never more than in_flight per
    worker outstanding, however many tasks there are (Pool.imap drew them all at once)."""
    drawn = []

    def tasks():
        for n in range(200):
            drawn.append(n)
            yield n

    taken = 0
    for result in parallel.ordered(square, tasks(), 2, in_flight):
        assert result == taken * taken
        taken += 1
        assert len(drawn) - taken <= 2 * in_flight
    assert taken == 200


def test_a_dead_worker_costs_time_not_the_answer():
    global PARENT
    PARENT = os.getpid()
    assert list(parallel.ordered(suicidal, range(40), 2)) == [n * n for n in range(40)]


def test_a_parallel_build_equals_a_serial_one(builder, tmp_path, monkeypatch, two_workers):
    for day in range(1, 15):
        for k in range(4):
            builder.event(f"2016-03-{day:02d}", f"Event {k} of day {day}", related=[("First", "/news/2016/03/1/event-0-of-day-1.md", ["War"])])
    CLOCK.age_tree(builder.root)
    monkeypatch.setattr(build, "PARALLEL_MIN_FILES", 1)
    monkeypatch.setattr(build, "CHUNK", 7)
    forked = build.open_fresh(builder.root, builder.root, ["events", "links"], cache_dir=tmp_path / "a")
    assert_true_to(forked, builder.root)
    monkeypatch.setenv("NEWSARC_WORKERS", "1")
    serial = build.open_fresh(builder.root, builder.root, ["events", "links"], cache_dir=tmp_path / "b")
    assert held(forked) == held(serial)
    query = "SELECT f.path, t.path, l.role FROM links l JOIN files f ON f.id = l.id JOIN files t ON t.id = l.target ORDER BY 1, 2"
    assert forked.conn.execute(query).fetchall() == serial.conn.execute(query).fetchall()
