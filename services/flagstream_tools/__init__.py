"""The tools that drive the whole system: the `flagstream` command line, the embedded stack
(demo, supervisor), the benchmark, the synthetic county generator, the batch oracle and
reconciliation. They sit on top: they may import the kernel, the read model and every
service; nothing imports them (see docs/architecture.md)."""
