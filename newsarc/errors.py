"""Exit statuses and the exceptions the core raises for bad input.

The core never prints or exits; it raises one of these, and the CLI's single
error handler turns it into one sentence on stderr and an exit status.
"""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    """Exit codes that follow grep: callers script against them."""

    OK = 0  # found something / archive is clean
    NOTHING = 1  # nothing found / problems found
    ERROR = 2  # usage or runtime error
    INTERRUPTED = 130  # Ctrl-C


class NewsarcError(Exception):
    """A problem the user can fix; the message says how."""

    status = ExitStatus.ERROR

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint


class ArchiveNotFound(NewsarcError):
    """The --archive path does not exist or holds no archive."""


class BadDate(NewsarcError):
    """A date expression none of the accepted forms matches."""


class EventNotFound(NewsarcError):
    """No event matches the reference the user gave; `candidates` are close ones, if any."""

    def __init__(self, message: str, candidates: list[str] | None = None, *, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.candidates = candidates or []


class AmbiguousEvent(NewsarcError):
    """A slug prefix matched several events; the user must pick one."""

    def __init__(self, message: str, candidates: list[str], **kw):
        super().__init__(message, **kw)
        self.candidates = candidates


class BadPattern(NewsarcError):
    """A search pattern the regex engine rejects."""


class AmbiguousTopic(AmbiguousEvent):
    """A topic name matched several topics; the candidates are listed like events."""


class TopicNotFound(NewsarcError):
    """No topic matches the name given; exit 2 like any other unknown name typed."""


class IndexDamaged(NewsarcError):
    """A section of the index cache does not read back (blocks lost in a crash, or the file rewritten
    in place by something other than newsarc, which always replaces it whole). The file is removed
    first, so running the command again rebuilds it."""
