"""What the commands do, on top of the archive and its index: lookups, search, related events, the link checks, the overview."""
