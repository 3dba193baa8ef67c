"""windhash's fleet service: the telemetry collector of the hosted miners (cgminer RPC API → Kafka)."""
