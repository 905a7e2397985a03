"""The Kafka edge out: the drainer publishes the durable record (the outbox) in order
(drainer.py) with an idempotent producer (producer.py). Partners' raw topics come in through
the validator (validator.py)."""
