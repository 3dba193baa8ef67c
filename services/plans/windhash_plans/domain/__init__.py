"""Pure domain rules of curtailment plans: no I/O, unit-tested against plain values."""
