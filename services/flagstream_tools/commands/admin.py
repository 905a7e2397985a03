"""`flagstream keys|transfers|tick|rules`: what an operator does to a running system."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from flagstream_tools.commands import Add


def _cmd_keys(args: argparse.Namespace) -> int:
    from flagstream.settings import Settings
    from ingest.db import make_engine
    from ingest.keys import create_key, list_keys, revoke_key

    engine = make_engine(Settings().ingest_database_url)
    if args.action == "list":
        print(
            f"{'key id':<14}{'partner':<32}{'scope':<16}{'urn':<8}{'created (UTC)':<22}"
            f"{'expires (UTC)':<22}revoked"
        )
        for k in list_keys(engine):
            expires = f"{k.expires_at:%Y-%m-%d %H:%M:%S}" if k.expires_at else "never"
            print(
                f"{k.key_id:<14}{k.partner[:30]:<32}{k.scope:<16}{k.urn or '-':<8}"
                f"{k.created_at:%Y-%m-%d %H:%M:%S}   {expires:<22}{'yes' if k.revoked else 'no'}"
            )
        return 0
    if args.action == "revoke":
        if not args.key_id:
            print("keys revoke needs the key id (as `keys list` shows it)", file=sys.stderr)
            return 2
        if not revoke_key(engine, args.key_id):
            print(f"no key {args.key_id!r}: see `flagstream keys list`", file=sys.stderr)
            return 2
        print(f"key {args.key_id} revoked: ingest refuses it from now on (401 key_revoked)")
        return 0
    if not args.partner or not args.scope:
        print("keys create needs --partner and --scope", file=sys.stderr)
        return 2
    try:
        key = create_key(engine, args.partner, args.scope, args.urn, args.expires_days)
    except ValueError as exc:
        print(f"no key created: {exc}", file=sys.stderr)
        return 2
    print(key)
    expiry = f", expires in {args.expires_days} days" if args.expires_days else ""
    print(
        f"API key for {args.partner} (scope {args.scope}{f', URN {args.urn}' if args.urn else ''}"
        f"{expiry}) - shown once: only its hash is stored. Give it to the partner over a secure "
        "channel.",
        file=sys.stderr,
    )
    return 0


def _cmd_transfers(args: argparse.Namespace) -> int:
    from flagstream.settings import Settings
    from ingest.db import make_engine
    from ingest.store import Store
    from ingest.transfers import UnknownTransfer, confirm_transfer, identity_mover, list_transfers

    settings = Settings()
    engine = make_engine(settings.ingest_database_url)
    if args.action == "list":
        # No names or UPNs: a child_key prefix, the schools and dates.
        print(
            f"{'id':<14}{'child':<10}{'from':<8}{'to':<8}{'joined':<12}{'left':<12}"
            f"{'received (UTC)':<22}{'key id':<14}status"
        )
        for t in list_transfers(engine, everything=args.all):
            left = t.left_on.isoformat() if t.left_on else "-"
            status = t.status if t.confirmed_by is None else f"{t.status} by {t.confirmed_by}"
            print(
                f"{t.id:<14}{t.child:<10}{t.from_urn:<8}{t.to_urn:<8}{t.joined_on.isoformat():<12}"
                f"{left:<12}{t.created_at:%Y-%m-%d %H:%M:%S}   {t.key_id or '-':<14}{status}"
            )
        return 0
    if not args.id:
        print(
            "transfers confirm needs the transfer's id (as `transfers list` shows it)",
            file=sys.stderr,
        )
        return 2
    moves = identity_mover(make_engine(settings.identity_database_url))
    try:
        move = confirm_transfer(Store(engine), args.id, moves)
    except UnknownTransfer:
        print(f"no pending transfer {args.id!r}: see `flagstream transfers list`", file=sys.stderr)
        return 2
    print(
        f"transfer {args.id} confirmed: the held enrolment at {move.urn} is queued for "
        "publishing and the child is on that school's roll"
    )
    return 0


def _keep_control(topic: str, value: bytes, kind: str) -> int:
    """Write a control event into ingest's durable record (its outbox), one per partition."""
    from flagstream.settings import Settings
    from ingest.db import make_engine
    from ingest.record import keep_control
    from ingest.store import Store

    settings = Settings()
    store = Store(make_engine(settings.ingest_database_url))
    return keep_control(store, topic, settings.partitions, value, kind)


def _cmd_tick(args: argparse.Namespace) -> int:
    from flagstream.codec import Codec
    from flagstream.settings import Settings
    from flagstream.topics import Topics
    from flagstream_tools.clock import day_ended, publish_day_ended

    settings = Settings()
    topics, codec = Topics(settings.topic_prefix), Codec(settings.schemas_dir)
    if args.direct:
        sent = publish_day_ended(
            settings.require_kafka(), topics, settings.partitions, args.day, codec
        )
        print(f"day {args.day} ended: {sent} tick(s) sent straight to Kafka, one per partition")
        return 0
    kept = _keep_control(topics.attendance, day_ended(args.day, codec), "day_ended")
    print(
        f"day {args.day} ended: {kept} tick(s), one per partition, kept in ingest's durable "
        "record; its drainer publishes them after everything accepted before"
    )
    return 0


def _cmd_rules(args: argparse.Namespace) -> int:
    from flagstream.rules_file import RulesFileError, describe_rules, load_rules

    try:
        config = load_rules(args.file)
    except RulesFileError as exc:
        print(f"invalid: {exc}", file=sys.stderr)
        return 2
    print(f"{args.file}: valid")
    print(describe_rules(config))
    if args.action == "deploy":
        from flagstream.codec import Codec
        from flagstream.settings import Settings
        from flagstream.topics import Topics
        from flagstream_tools.clock import publish_rules, rules_deployed

        settings = Settings()
        topics, codec = Topics(settings.topic_prefix), Codec(settings.schemas_dir)
        if args.direct:
            version = publish_rules(
                settings.require_kafka(), topics, settings.partitions, args.file.read_text(), codec
            )
        else:
            version, value = rules_deployed(args.file.read_text(), codec)
            _keep_control(topics.clock, value, "rules_deployed")
        print(
            f"rules {version} deployed to {settings.partitions} partition(s): every flagger "
            "re-evaluates the children it holds and emits only real changes"
        )
    return 0


def add_commands(add: Add) -> None:
    """Register the operator's commands on the main parser."""
    keys = add(
        "keys",
        _cmd_keys,
        "Create a partner API key (printed once, stored hashed) or list the keys, in "
        "FLAGSTREAM_INGEST_DATABASE_URL.",
    )
    keys.add_argument(
        "action",
        choices=["create", "list", "revoke"],
        help="create a key, list keys, or revoke one (by its id)",
    )
    keys.add_argument("key_id", nargs="?", help="revoke: the key's id, as `keys list` shows it")
    keys.add_argument("--partner", help="create: who the key is for, e.g. 'Acme MIS - 100001'")
    keys.add_argument(
        "--scope",
        help="create: school (registers, enrolments, SEN, assessments for one --urn), council "
        "(schools, enrolments, SEN, FSM, assessments), family-support, police, health (streams "
        "keyed by NHS number, e.g. early years), professional (outcomes) or all",
    )
    keys.add_argument("--urn", help="create: the school's 6-digit URN (school scope only)")
    keys.add_argument(
        "--expires-days",
        type=int,
        help="create: refuse the key (401 key_expired) this many days from now (default: never)",
    )
    transfers = add(
        "transfers",
        _cmd_transfers,
        "List enrolments held as pending transfers (a school enrolled a pupil on another "
        "school's roll), or confirm one: its enrolment is published and the child moves.",
    )
    transfers.add_argument("action", choices=["list", "confirm"], help="list, or confirm one")
    transfers.add_argument("id", nargs="?", help="confirm: the transfer's id")
    transfers.add_argument("--all", action="store_true", help="list: confirmed ones too")
    tick = add("tick", _cmd_tick, "Publish a day-end tick so time-dependent flags update.")
    tick.add_argument(
        "--day",
        type=date.fromisoformat,
        required=True,
        help="the day that ended (YYYY-MM-DD); run daily after registers close",
    )

    rules = add(
        "rules", _cmd_rules, "Validate a rules file and say what it means; or deploy it live."
    )
    rules.add_argument(
        "action",
        choices=["check", "deploy"],
        help="check: validate and describe; deploy: also publish it to every running flagger "
        "(FLAGSTREAM_KAFKA_BOOTSTRAP), which re-evaluates every child from held state",
    )
    rules.add_argument("file", type=Path, help="rules file (TOML), e.g. deploy/rules.toml")
    direct = (
        "publish straight to Kafka instead of keeping it in ingest's durable record "
        "(FLAGSTREAM_INGEST_DATABASE_URL); not replayed after a broker loss"
    )
    rules.add_argument("--direct", action="store_true", help="deploy: " + direct)
    tick.add_argument("--direct", action="store_true", help=direct)
