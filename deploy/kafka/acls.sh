#!/usr/bin/env bash
# Kafka logins (SCRAM-SHA-512) and ACLs for Flagstream: one principal per service and one per
# partner, each allowed only what it does (docs/operations.md#kafka-security has the table).
# Idempotent: a login is set to its secret file's password again (how a password is rotated),
# and adding an ACL that exists changes nothing. Run by compose's one-shot `kafka-setup` job
# in the apache/kafka image, as the broker's admin user (PLAIN over TLS, admin.properties).
#
#   BOOTSTRAP       the SASL_SSL listener                      (kafka:9094)
#   ADMIN_CONFIG    client properties of the admin login       (/etc/kafka/secrets/admin.properties)
#   SECRETS         folder of kafka-<user>.password files      (/etc/kafka/secrets)
#   PARTNERS        partner principals and their record kinds  (/etc/flagstream/kafka-partners.txt)
#   PREFIX          FLAGSTREAM_TOPIC_PREFIX                     (flagstream)
#
# Topic names are flagstream/topics.py's (tests/unit/test_kafka_deploy.py checks them).
set -euo pipefail

BOOTSTRAP=${BOOTSTRAP:-kafka:9094}
ADMIN_CONFIG=${ADMIN_CONFIG:-/etc/kafka/secrets/admin.properties}
SECRETS=${SECRETS:-/etc/kafka/secrets}
PARTNERS=${PARTNERS:-/etc/flagstream/kafka-partners.txt}
PREFIX=${PREFIX:-flagstream}
BIN=${KAFKA_BIN:-/opt/kafka/bin}
APP=flagstream-flagger # the flagger's Faust app id: its consumer group and its topics' prefix

CANONICAL=("$PREFIX.enrolments" "$PREFIX.attendance" "$PREFIX.child-events" "$PREFIX.clock")
# What the durable record (ingest's and the validator's outboxes) publishes.
RECORD=("$PREFIX.schools" "${CANONICAL[@]}" "$PREFIX.outcomes" "$PREFIX.dead-letters" "$PREFIX.record-replays")
FLAGGER_OUT=("$PREFIX.flag-changes" "$PREFIX.child-flags")
FLAGGER_OWN=("$APP-child-state-changelog" "$APP-__assignor-__leader")
PROJECTED=("$PREFIX.schools" "${FLAGGER_OUT[@]}" "$PREFIX.outcomes" "${CANONICAL[@]}" "$PREFIX.record-replays")
QUARANTINE="$PREFIX.quarantine"

admin() { "$BIN/$1" --bootstrap-server "$BOOTSTRAP" --command-config "$ADMIN_CONFIG" "${@:2}"; }

login() { # login NAME: its SCRAM credential from $SECRETS/kafka-NAME.password (kept out of argv)
  local file
  file=$(mktemp)
  chmod 600 "$file"
  printf 'SCRAM-SHA-512=[iterations=8192,password=%s]\n' "$(<"$SECRETS/kafka-$1.password")" >"$file"
  admin kafka-configs.sh --alter --entity-type users --entity-name "$1" --add-config-file "$file" >/dev/null
  rm -f "$file"
  echo "login $1"
}

allow() { # allow NAME OPERATION[,OPERATION] RESOURCE-ARGS...: e.g. --topic T, --group G
  local who=$1 operations=() op
  for op in ${2//,/ }; do operations+=(--operation "$op"); done
  admin kafka-acls.sh --add --allow-principal "User:$who" "${operations[@]}" "${@:3}" >/dev/null
}

topics() { # topics NAME OPERATIONS TOPIC...: the operations on each literal topic
  local who=$1 operations=$2 topic
  for topic in "${@:3}"; do allow "$who" "$operations" --topic "$topic"; done
}

# ingest: the HTTP API's durable record onto the canonical, reference and internal topics;
# checks them at start (Describe, DescribeConfigs). Its producer is idempotent.
login ingest
topics ingest Write,Describe,DescribeConfigs "${RECORD[@]}"
allow ingest IdempotentWrite --cluster

# validator: partners' raw topics in, the same durable record out.
login validator
topics validator Write,Describe,DescribeConfigs "${RECORD[@]}"
allow validator Read,Describe,DescribeConfigs --topic "$PREFIX.raw." --resource-pattern-type prefixed
allow validator IdempotentWrite --cluster

# flagger: reads the canonical topics in its consumer group, writes its outputs and its own
# changelog and leader topics (and reads them back on recovery), quarantines what it cannot
# decode.
login flagger
topics flagger Read,Describe,DescribeConfigs "${CANONICAL[@]}"
topics flagger Write,Read,Describe,DescribeConfigs "${FLAGGER_OUT[@]}" "${FLAGGER_OWN[@]}"
topics flagger Write,Describe,DescribeConfigs "$QUARANTINE"
allow flagger Read,Describe --group "$APP"

# projector: reads (assigned partitions, no group of its own), reads the flagger's committed
# offsets for its lag, quarantines what it cannot decode.
login projector
topics projector Read,Describe,DescribeConfigs "${PROJECTED[@]}"
topics projector Write,Describe,DescribeConfigs "$QUARANTINE"
allow projector Describe --group "$APP"

# notifier: reads the flag changes (assigned partitions, its position kept in the alerts
# database: no consumer group, so no group ACL), writes nothing.
login notifier
topics notifier Read,Describe "$PREFIX.flag-changes"

# operator: `flagstream topics create`, `lag`, `recompute`, `reconcile` - creates and reads,
# never writes. (tick/rules deploy go through ingest's record; --direct and `schools import`
# run with ingest's login.)
login operator
for pattern in "$PREFIX." "$APP-"; do
  allow operator Create,Describe,DescribeConfigs,Read --topic "$pattern" --resource-pattern-type prefixed
done
allow operator Describe --group "$APP"

# partners: `NAME KIND[,KIND]` per line; each may write only its own kinds' raw topics.
if [[ -f $PARTNERS ]]; then
  while read -r name kinds _; do
    [[ -z $name || $name == \#* ]] && continue
    login "$name"
    for kind in ${kinds//,/ }; do
      topics "$name" Write,Describe "$PREFIX.raw.$kind"
    done
    allow "$name" IdempotentWrite --cluster
  done <"$PARTNERS"
fi
echo "Kafka logins and ACLs are in place"
