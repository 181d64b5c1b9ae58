"""Reading one event file: bytes to an Event (the parser, its fast path, dates, topic names, limits)."""
