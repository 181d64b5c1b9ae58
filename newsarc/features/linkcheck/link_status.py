"""validate-links' exit status, from what it found.

Apart from features/linkcheck/external_findings.py, which imports asyncio and the HTTP client:
the offline check, the common case, does not pay for them.
"""

from __future__ import annotations

from typing import Any

from newsarc.errors import ExitStatus
from newsarc.features.linkcheck.checks import Report


def exit_status(report: Report, checked: Any = None) -> int:
    """130 when Ctrl-C stopped --external's requests (`checked`, features/external.Report), else 1
    when an error was found, else 0 (warnings allowed)."""
    if checked is not None and checked.interrupted:
        return ExitStatus.INTERRUPTED
    return ExitStatus.NOTHING if report.errors else ExitStatus.OK
