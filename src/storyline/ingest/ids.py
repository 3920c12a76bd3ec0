"""Article ids: stable, and never shared by two inputs without anyone saying so."""

from __future__ import annotations

import hashlib

from storyline.model import RawDocument, Rejected


class IdClaims:
    """Ids never collide silently. An id made from a name (a file's stem) belongs to the input it was first
    stored from; another input whose name gives the same id (a/report.txt beside b/report.txt) gets the id
    plus 8 hex digits of the SHA-1 of its absolute path, the same in every run. An id given by two inputs of
    one run is a rejection of the second; the same input named twice in one run is read once."""

    def __init__(self, stored: dict[str, str | None]) -> None:
        self.owners = dict(stored)
        self.in_run: dict[str, tuple[str, str]] = {}

    def know(self, stored: dict[str, str | None]) -> None:
        """Add the owners of stored ids read since (an ingest reads the store a chunk at a time)."""
        for article_id, origin in stored.items():
            self.owners.setdefault(article_id, origin)

    @staticmethod
    def qualified(doc: RawDocument) -> str:
        """The id `doc` gets when another input holds its name-made one (its own id when it has no origin)."""
        return f"{doc.id}-{hashlib.sha1(doc.origin.encode()).hexdigest()[:8]}" if doc.origin is not None else doc.id

    def claim(self, doc: RawDocument) -> Rejected | bool:
        """Give `doc` its id for keeps: True, or the rejection of a repeated id, or False for an input this
        run has already read."""
        if doc.origin is not None and self.owners.get(doc.id, doc.origin) != doc.origin:
            doc.id = self.qualified(doc)
        input_key = doc.origin or doc.source
        if doc.id in self.in_run:
            first_key, first_source = self.in_run[doc.id]
            if first_key == input_key:
                return False
            return Rejected(doc.source, f"repeated id {doc.id!r} (first used by {first_source})")
        self.in_run[doc.id] = (input_key, doc.source)
        self.owners.setdefault(doc.id, doc.origin)
        return True
