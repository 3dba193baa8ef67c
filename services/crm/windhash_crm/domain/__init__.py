"""The CRM's rules as pure functions: no I/O, unit-tested against plain values."""
