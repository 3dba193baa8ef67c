"""What windhash's synthetic servers (libs/elexon_sim, libs/market_sim) share: the book of faults a test asks
them to inject, the count of requests they answered, and serving their app from a background thread of the
test's process."""

from windhash_sim_support.background_server import BackgroundServer, StartedInWith
from windhash_sim_support.fault_book import FaultBook, FaultRuleBase, FaultState
from windhash_sim_support.request_counts import RequestCounts

__all__ = ["BackgroundServer", "FaultBook", "FaultRuleBase", "FaultState", "RequestCounts", "StartedInWith"]
