"""Pure domain core: no Kafka, SQL, HTTP or Prometheus imports allowed here."""
