#!/usr/bin/env bash
# Makes deploy/kafka/secrets/ for docker-compose.yml: a CA, the broker's TLS certificate (for
# the hosts `kafka` and `localhost`), one random password per Kafka login (the broker, its
# admin, each service, each partner in partners.txt), the broker's JAAS file and the admin's
# client properties. Files that exist are kept: delete one and run this again to make it anew
# (docs/operations.md#rotating-kafka-credentials). A council would use its own CA and keep
# these in its secret store; this is for a first start. Never commit the folder.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/secrets}
partners=${PARTNERS:-$here/partners.txt}
mkdir -p "$out"
chmod 700 "$out"
cd "$out"

if [[ ! -f ca.pem ]]; then
  openssl req -x509 -new -nodes -newkey rsa:3072 -sha256 -days 825 \
    -subj "/CN=Flagstream Kafka CA" -keyout ca.key -out ca.pem 2>/dev/null
fi
if [[ ! -f broker.pem ]]; then
  openssl req -new -nodes -newkey rsa:3072 -sha256 -subj "/CN=kafka" \
    -keyout broker.key -out broker.csr 2>/dev/null
  printf 'subjectAltName=DNS:kafka,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' >broker.ext
  openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -sha256 \
    -days 825 -extfile broker.ext -out broker.crt 2>/dev/null
  # Kafka's PEM keystore (ssl.keystore.type=PEM): the PKCS#8 key, then the certificate chain.
  openssl pkcs8 -topk8 -nocrypt -in broker.key | cat - broker.crt ca.pem >broker.pem
  rm -f broker.csr broker.ext
fi

password() { [[ -s kafka-$1.password ]] || openssl rand -hex 24 >"kafka-$1.password"; }
for name in kafka admin ingest validator flagger projector notifier operator; do password "$name"; done
if [[ -f $partners ]]; then
  while read -r name _; do
    [[ -z $name || $name == \#* ]] || password "$name"
  done <"$partners"
fi

# The broker itself and its admin log in with PLAIN (kept here); every other login is a
# SCRAM credential stored in Kafka by acls.sh, so it can be changed without a restart.
cat >kafka_server_jaas.conf <<EOF
KafkaServer {
  org.apache.kafka.common.security.plain.PlainLoginModule required
    username="kafka"
    password="$(<kafka-kafka.password)"
    user_kafka="$(<kafka-kafka.password)"
    user_admin="$(<kafka-admin.password)";
  org.apache.kafka.common.security.scram.ScramLoginModule required;
};
EOF
cat >admin.properties <<EOF
security.protocol=SASL_SSL
sasl.mechanism=PLAIN
sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="$(<kafka-admin.password)";
ssl.truststore.type=PEM
ssl.truststore.location=/etc/kafka/secrets/ca.pem
EOF

# Compose mounts these into containers whose users are not this one: readable, in a folder
# only this user can open. The CA's and the broker's keys stay private.
chmod 644 ./*.pem ./*.password kafka_server_jaas.conf admin.properties
chmod 600 ca.key broker.key
echo "Kafka secrets in $out"
