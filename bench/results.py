"""What one bench group hands back: its printed table and its figures, one key per row.

A row key is ``"<group>/<table>/<row>"`` and maps to that row's figures by column name
(``{"ops/s": 51234.0, "vs pydantic v2": 1.07}``), so that a script comparing two runs of
``bench/run.py --json FILE`` can match rows by key and columns by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Rows = dict[str, dict[str, float]]


@dataclass
class Section:
    """One group's output: the text ``bench/run.py`` prints, and the figures behind it."""

    text: str
    rows: Rows = field(default_factory=dict)

    def add(self, key: str, **columns: float) -> None:
        """Record the figures of row ``key`` (columns merge into an existing row)."""
        self.rows.setdefault(key, {}).update(columns)


def skipped(text: str) -> Section:
    """A group that could not run here (no wrk, no server): its reason, no figures."""
    return Section(text)


def join(*sections: Section) -> Section:
    """Several tables of one group as one section."""
    rows: Rows = {}
    for section in sections:
        rows.update(section.rows)
    return Section("\n\n".join(s.text for s in sections if s.text), rows)
