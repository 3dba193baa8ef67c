"""windhash_elexon_sim: a local server speaking Elexon's Insights API JSON, serving SYNTHETIC data."""

from windhash_elexon_sim.answers import SYNTHETIC_HEADER
from windhash_elexon_sim.app import API_PREFIX, SimState, build_app
from windhash_elexon_sim.faults import FaultRule
from windhash_elexon_sim.generator import DEFAULT_SEED, settlement_stack
from windhash_elexon_sim.server import ElexonSimProcess, ElexonSimServer, serve

__all__ = [
    "API_PREFIX",
    "DEFAULT_SEED",
    "SYNTHETIC_HEADER",
    "ElexonSimProcess",
    "ElexonSimServer",
    "FaultRule",
    "SimState",
    "build_app",
    "serve",
    "settlement_stack",
]
