"""windhash's local fleet simulator: thousands of SYNTHETIC ASIC miners answering the cgminer RPC API as
LuxOS does, with fault injection and LuxOS's curtailment commands (`windhash fleet-sim`)."""
