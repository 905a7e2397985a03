"""The batch oracle against the projected read model: per-zone counts and per-child differences
(flags, and the term to date)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, Table, select

from flagstream.domain.rules import SENSITIVE
from flagstream_tools.oracle import Recomputed
from flagstream_tools.oracle_term import TermField, TermToDate, comparable, term_fields_differing
from ingest.ledger import LedgerRow
from readmodel.tables import child_flags

ANY = "any flag"


def printable(text: str) -> str:
    """Text as it may be printed to a terminal: each non-printable character (control, format,
    line break; e.g. an ESC that would recolour the screen) as its escape, e.g. \\x1b. Ingest
    refuses such sources now (invalid_source), but older ledger rows may hold them."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


@dataclass(frozen=True, slots=True)
class Child:
    """A child's school, raised flags and term to date (None: not known on this side, not
    compared), from either side."""

    urn: str
    flags: frozenset[str]
    term: TermToDate | None = None


@dataclass(frozen=True, slots=True)
class Difference:
    """A child whose projected flags or term-to-date figures are not the oracle's (`terms`:
    the term_* columns that differ; none when only the flags do)."""

    child_key: str
    urn: str
    expected: frozenset[str]
    projected: frozenset[str]
    terms: tuple[TermField, ...] = ()


def from_oracle(recomputed: Mapping[str, Recomputed]) -> dict[str, Child]:
    """The oracle's answer in the shape of the read model."""
    return {key: Child(r.urn, r.flags, r.term) for key, r in recomputed.items()}


def from_read_model(
    conn: Connection, children: Table, flags: Sequence[str], restricted: Table | None = None
) -> dict[str, Child]:
    """Each projected child (a `children` row) with its flags among `flags`: open flags from
    child_flags (one row per flag raised), sensitive flags (kept apart) from `restricted`
    (child_key, flag rows); its term to date from the row's term_* columns (a row written
    before migration 0010 reads term_start NULL and 0 sessions, as the database holds it)."""
    kept_apart = [f for f in flags if f in SENSITIVE and restricted is not None]
    open_flags = [f for f in flags if f not in kept_apart]
    c = children.c
    found: dict[str, tuple[str, set[str]]] = {}
    terms: dict[str, TermToDate] = {}
    rows = select(
        c.child_key, c.urn, c.term_start, c.term_possible_sessions, c.term_absent_sessions, c.as_of
    )
    for key, urn, start, possible, absent, as_of in conn.execute(rows):
        found[key] = (urn, set())
        terms[key] = TermToDate(start, possible, absent, as_of)
    sources: list[tuple[Table, list[str]]] = [(child_flags, open_flags)]
    if restricted is not None and kept_apart:
        sources.append((restricted, kept_apart))
    for table, wanted in sources:
        if not wanted:
            continue
        query = select(table.c.child_key, table.c.flag).where(table.c.flag.in_(wanted))
        for child_key, flag in conn.execute(query):
            if child_key in found:
                found[child_key][1].add(flag)
    return {key: Child(urn, frozenset(held), terms.get(key)) for key, (urn, held) in found.items()}


def differences(expected: Mapping[str, Child], projected: Mapping[str, Child]) -> list[Difference]:
    """Children whose flags or term to date differ. A child missing on one side has no flags
    and no term figures there; term figures are compared where both sides have them and the
    row is as of the oracle's day or an earlier day of its term (a NULL term_start in the
    read model is a difference if the oracle has a term), and against a side without them
    only if the other counted a possible session (oracle_term.term_fields_differing)."""
    none = Child("", frozenset())
    out = []
    for key in sorted(set(expected) | set(projected)):
        e, p = expected.get(key, none), projected.get(key, none)
        terms = term_fields_differing(e.term, p.term)
        if e.flags != p.flags or terms:
            out.append(Difference(key, p.urn or e.urn, e.flags, p.flags, terms))
    return out


def terms_not_compared(expected: Mapping[str, Child], projected: Mapping[str, Child]) -> int:
    """Projected children whose term figures are of an earlier term than the oracle's (their
    last snapshot's), so not compared (oracle_term.comparable)."""
    return sum(
        1
        for key, p in projected.items()
        if p.term is not None
        and (e := expected.get(key)) is not None
        and e.term is not None
        and not comparable(e.term, p.term)
    )


def by_zone(
    children: Mapping[str, Child], zones: Mapping[str, str], flags: Sequence[str]
) -> dict[str, Counter[str]]:
    """zone -> flag -> flagged children (plus ANY), over children with at least one flag."""
    counts: dict[str, Counter[str]] = {}
    for child in children.values():
        # No school: a child known only by NHS number, not yet in school (docs/families.md).
        zone = zones.get(child.urn, "(unknown school)" if child.urn else "(not yet in school)")
        tally = counts.setdefault(zone, Counter())
        for flag in flags:
            tally[flag] += flag in child.flags
        tally[ANY] += bool(child.flags)
    return counts


def render_zones(
    projected: Mapping[str, Counter[str]],
    expected: Mapping[str, Counter[str]] | None,
    flags: Sequence[str],
) -> str:
    """One row per zone of counts per flag. Given the oracle's counts too, a cell that
    differs shows `projected/oracle` and a match column says whether the row agrees."""
    columns = [*flags, ANY]
    check = expected is not None
    expected = projected if expected is None else expected
    header = f"{'zone':<22}" + "".join(f"{c:>12}" for c in columns) + ("  match" if check else "")
    lines = [header, "-" * len(header)]
    total_p: Counter[str] = Counter()
    total_e: Counter[str] = Counter()
    for zone in [*sorted(set(projected) | set(expected)), "TOTAL"]:
        if zone == "TOTAL":
            lines.append("-" * len(header))
            p, e = total_p, total_e
        else:
            p, e = projected.get(zone, Counter()), expected.get(zone, Counter())
            total_p.update(p)
            total_e.update(e)
        cells = [f"{p[c]:,}" if p[c] == e[c] else f"{p[c]:,}/{e[c]:,}" for c in columns]
        ok = "yes" if all(p[c] == e[c] for c in columns) else "NO"
        lines.append(
            f"{printable(zone):<22}"
            + "".join(f"{x:>12}" for x in cells)
            + (f"  {ok}" if check else "")
        )
    return "\n".join(lines)


def render_differences(diffs: Sequence[Difference], limit: int = 20) -> str:
    """The first few differences in words (child_key is pseudonymous, safe to print)."""
    if not diffs:
        return "no differences: every projected child's flags and term to date equal the oracle's"
    lines = [f"{len(diffs):,} child(ren) differ:"]
    for d in diffs[:limit]:
        parts = [
            f"{t.name} oracle {_value(t.oracle)}, projected {_value(t.projected)}" for t in d.terms
        ]
        if d.expected != d.projected or not parts:
            parts.insert(
                0, f"oracle {sorted(d.expected) or '-'}, projected {sorted(d.projected) or '-'}"
            )
        lines.append(f"  {printable(d.child_key)} at {printable(d.urn or '?')}: {'; '.join(parts)}")
    if len(diffs) > limit:
        lines.append(f"  ... and {len(diffs) - limit:,} more")
    return "\n".join(lines)


def _value(value: date | int | None) -> str:
    """A term figure as printed: a date in ISO form, a count, '-' for none."""
    return "-" if value is None else value.isoformat() if isinstance(value, date) else f"{value:,}"


@dataclass(frozen=True, slots=True)
class LedgerLine:
    """One of ingest's ledger rows beside the records of its source, day and kind found on
    the topics."""

    row: LedgerRow
    on_topics: int

    @property
    def ok(self) -> bool:
        """received = accepted + rejected, and every accepted record not queued is on a topic."""
        return self.row.balanced and self.row.accepted - self.row.queued == self.on_topics


def ledger_lines(
    rows: Sequence[LedgerRow], on_topics: Mapping[tuple[str, date, str], int]
) -> list[LedgerLine]:
    """Join ingest's ledger rows with counts read off the topics."""
    lines = []
    seen = set()
    for r in rows:
        key = (r.source, r.day, r.kind)
        seen.add(key)
        lines.append(LedgerLine(r, on_topics.get(key, 0)))
    for (source, day, kind), n in sorted(on_topics.items()):
        if (source, day, kind) not in seen:  # On a topic but never received: invented.
            lines.append(LedgerLine(LedgerRow(source, day, kind, 0, 0, 0, 0), n))
    return sorted(lines, key=lambda line: (line.row.day, line.row.source, line.row.kind))


def render_ledger(lines: Sequence[LedgerLine], duplicates: int | None = None) -> str:
    """received = accepted + rejected, and accepted = on the topics, per source, day and kind;
    then, given it, how many records were on the topics more than once."""
    header = (
        f"{'day':<10} {'source':<24} {'kind':<28} {'received':>9} {'accepted':>9} "
        f"{'rejected':>9} {'refused':>8} {'queued':>7} {'on topics':>10}  ok"
    )
    out = [header, "-" * len(header)]
    for line in lines:
        x = line.row
        out.append(
            f"{x.day.isoformat():<10} {printable(x.source)[:24]:<24} {printable(x.kind)[:28]:<28} "
            f"{x.received:>9,} "
            f"{x.accepted:>9,} {x.rejected:>9,} {x.refused:>8,} {x.queued:>7,} "
            f"{line.on_topics:>10,}  {'yes' if line.ok else 'NO'}"
        )
    if duplicates is not None:
        out.append(
            f"records on the topics more than once (at-least-once delivery), "
            f"each counted once above: {duplicates:,}"
        )
    return "\n".join(out)
