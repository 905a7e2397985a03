"""`flagstream recompute` and `flagstream reconcile`: the batch oracle from the command line."""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # The CLI imports this module at start; the heavy parts load on use.
    from flagstream.domain.rules import RuleConfig
    from flagstream_tools.eventlog import EventLog


def _log(args: argparse.Namespace) -> EventLog:
    from flagstream.codec import Codec
    from flagstream.settings import Settings
    from flagstream.topics import Topics
    from flagstream_tools.eventlog import from_file, from_topics

    settings = Settings()
    if args.log is not None:
        if settings.pseudonym_key is None:
            raise SystemExit(
                "FLAGSTREAM_PSEUDONYM_KEY is not set: a generator file holds UPNs, and the "
                "oracle keys children exactly as ingest does. Set it to ingest's key."
            )
        from ingest.pseudonymise import Pseudonymiser

        key = Pseudonymiser(settings.pseudonym_key.get_secret_value().encode())
        print(f"reading {args.log} ...", file=sys.stderr, flush=True)
        return from_file(args.log, key)
    bootstrap = settings.require_kafka()
    print(f"reading the canonical topics on {bootstrap} ...", file=sys.stderr, flush=True)
    return from_topics(bootstrap, Topics(settings.topic_prefix), Codec(settings.schemas_dir))


def _rules(args: argparse.Namespace, log: EventLog) -> RuleConfig:
    from flagstream.rules_file import parse_rules
    from flagstream.settings import Settings

    if args.rules is not None:
        return Settings(rules_file=args.rules).rules()
    if log.deployed is not None:
        return parse_rules(log.deployed.rules_toml, f"deployed rules {log.deployed.version}")
    return Settings().rules()


def _oracle(args: argparse.Namespace) -> tuple[EventLog, RuleConfig, date, dict[str, Any]]:
    from flagstream.settings import Settings
    from flagstream_tools.oracle import recompute_children
    from flagstream_tools.reconcile import from_oracle

    log = _log(args)
    rules = _rules(args, log)
    as_of = args.as_of or log.last_day
    if as_of is None:
        raise SystemExit("the log has no dated events: pass --as-of YYYY-MM-DD")
    read = ", ".join(f"{n:,} from {source}" for source, n in log.read.items())
    print(
        f"read {read}; {log.undecodable:,} undecodable. Rules {rules.version}, as of {as_of}.",
        file=sys.stderr,
    )
    # The term to date by the flagger's calendar (FLAGSTREAM_TERM_CALENDAR over England's).
    recomputed = recompute_children(log.events, as_of, rules, calendar=Settings().calendar())
    return log, rules, as_of, from_oracle(recomputed)


def cmd_recompute(args: argparse.Namespace) -> int:
    """Every child's flags from the log with plain code; per-zone counts, optional CSV."""
    from flagstream_tools.reconcile import by_zone, render_zones

    log, rules, as_of, expected = _oracle(args)
    flags = sorted(rules.flags)
    counts = by_zone(expected, log.zones, flags)
    print(f"Flagged children by zone as of {as_of} (batch oracle, rules {rules.version}):")
    print(render_zones(counts, None, flags))
    if args.csv is not None:
        with args.csv.open("w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["child_key", "urn", *flags])
            for key, child in sorted(expected.items()):
                writer.writerow([key, child.urn, *(int(f in child.flags) for f in flags)])
        print(f"{len(expected):,} children written to {args.csv}")
    return 0


def cmd_reconcile(args: argparse.Namespace) -> int:
    """The oracle against the projected read model; exit 1 if any child differs."""
    from flagstream.settings import Settings
    from flagstream_tools.reconcile import (
        by_zone,
        differences,
        from_read_model,
        render_differences,
        render_zones,
        terms_not_compared,
    )
    from readmodel.db import make_engine
    from readmodel.tables import children, restricted_flags

    log, rules, as_of, expected = _oracle(args)
    flags = sorted(rules.flags)
    engine = make_engine(Settings().database_url)
    with engine.connect() as conn:
        projected = from_read_model(conn, children, flags, restricted_flags)
    print(f"Flagged children by zone: projected (oracle where different), as of {as_of}:")
    counts = by_zone(projected, log.zones, flags), by_zone(expected, log.zones, flags)
    print(render_zones(*counts, flags))
    diffs = differences(expected, projected)
    print(render_differences(diffs))
    if skipped := terms_not_compared(expected, projected):
        print(
            f"term to date not compared for {skipped:,} child(ren) whose last snapshot is from an "
            "earlier term (no marks since: not yet in school, or gone)"
        )
    balanced = True
    if args.log is None:  # The log is the topics: account for every record ingest took.
        balanced = _ledger(log)
    return 0 if not diffs and balanced else 1


def _ledger(log: EventLog) -> bool:
    """Ingest's ledger beside the topics, and whether the flagger consumed them all."""
    from flagstream.lag import ahead, behind, end_offsets, group_offsets
    from flagstream.settings import Settings
    from flagstream.topics import FLAGGER_APP_ID, Topics
    from flagstream_tools.reconcile import ledger_lines, render_ledger
    from ingest.ledger import ingest_ledger
    from readmodel.db import make_engine

    settings = Settings()
    lines = ledger_lines(ingest_ledger(make_engine(settings.ingest_database_url)), log.on_topics)
    print("\nIngest ledger: received = accepted + rejected; accepted = on the topics (or queued)")
    print(render_ledger(lines, log.duplicates))
    bootstrap = settings.require_kafka()
    ends = end_offsets(bootstrap, Topics(settings.topic_prefix).canonical)
    committed = group_offsets(bootstrap, FLAGGER_APP_ID, ends)
    lag, reset = behind(ends, committed), ahead(ends, committed)
    total = sum(ends.values())
    if reset:
        where = ", ".join(f"{t}[{p}]" for t, p in reset)
        print(
            f"ERROR: the flagger's committed offsets are past the log end on {where}: the log "
            "was reset under it. Rebuild it (docs/operations.md)."
        )
        return False
    print(
        f"flagger consumed all {total:,} records on the canonical topics"
        if lag == 0
        else f"flagger is {lag:,} of {total:,} records behind on the canonical topics"
    )
    return lag == 0 and all(line.ok for line in lines)


def add_commands(add: Callable[[str, Callable[[argparse.Namespace], int], str], Any]) -> None:
    """Register both commands on the main parser."""
    for name, handler, help_ in (
        ("recompute", cmd_recompute, "Compute every child's flags from an event log (oracle)."),
        (
            "reconcile",
            cmd_reconcile,
            "Compare the oracle's flags and term to date with the projected read model; "
            "exit 1 on differences.",
        ),
    ):
        p = add(name, handler, help_)
        source = p.add_mutually_exclusive_group()
        source.add_argument(
            "--log",
            type=Path,
            help="a timeline file from `flagstream generate` (needs FLAGSTREAM_PSEUDONYM_KEY); "
            "default: read the canonical topics on FLAGSTREAM_KAFKA_BOOTSTRAP",
        )
        p.add_argument(
            "--as-of",
            type=date.fromisoformat,
            help="date to evaluate as of (default: the log's last ended day)",
        )
        p.add_argument(
            "--rules",
            type=Path,
            help="rules file (default: the last one deployed on the clock topic, "
            "else FLAGSTREAM_RULES_FILE)",
        )
        if name == "recompute":
            p.add_argument("--csv", type=Path, help="also write child_key,urn,<flag>... rows here")
