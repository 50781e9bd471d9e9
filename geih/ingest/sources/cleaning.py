"""The cleaning report every loader returns next to its frame.

Count keys follow one convention so that summaries can say what happened to the rows:

- ``dropped_<why>``: rows removed (``rows_read - rows_kept == sum of dropped_*``);
- ``nan_<column>_<why>``: values set to missing in rows that were kept;
- anything else is informational (e.g. ``repaired_geometry``).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CleaningReport:
    """What a loader read from one file and what it removed or blanked, with counts."""

    file: str
    format: str
    rows_read: int = 0
    rows_kept: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    encoding: str = "utf-8"
    notes: list[str] = field(default_factory=list)
    # first and last date (ISO text) of the records kept, for time-stamped data; None when unknown
    period: tuple[str, str] | None = None

    def add(self, key: str, n: int) -> None:
        """Add `n` to count `key`; zero counts are not recorded (keeps summaries short)."""
        n = int(n)
        if n:
            self.counts[key] = self.counts.get(key, 0) + n

    def note(self, text: str) -> None:
        """Record a human-readable remark (e.g. the encoding used)."""
        if text not in self.notes:
            self.notes.append(text)

    def absorb(self, part: CleaningReport) -> None:
        """Add what `part` (another read of the same file) read, kept, counted and noted to this report."""
        self.rows_read += part.rows_read
        self.rows_kept += part.rows_kept
        for key, n in part.counts.items():
            self.add(key, n)
        for text in part.notes:
            self.note(text)
        self.encoding = part.encoding

    @property
    def dropped(self) -> dict[str, int]:
        """Counts of removed rows, by reason (the ``dropped_`` prefix removed)."""
        return {k.removeprefix("dropped_"): v for k, v in self.counts.items() if k.startswith("dropped_")}
