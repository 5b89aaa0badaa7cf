"""The errors the archive raises for problems a user can fix; every front prints them as one line."""
from __future__ import annotations


class ArchiveError(Exception):
    """A problem the user can fix; the message says how."""


class InvalidInput(ArchiveError):
    """An ArchiveError caused by malformed input (a bad URL, a bad setting), not by the archive's state."""


class ExportError(ArchiveError):
    """An export that could not be written; the message is one line."""


class ReversedRange(InvalidInput):
    """A range of versions whose FROM was captured after its TO: the web answers it 400, the CLI exit 2."""
