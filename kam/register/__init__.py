"""Consolidation of branch submissions into the HQ register (集团大客户名录, DOMAIN §5)."""

from kam.register.intake import FileOutcome
from kam.register.merge import MergeResult, MergeSettings, merge
from kam.register.owners import Claim, Conflict

__all__ = ["Claim", "Conflict", "FileOutcome", "MergeResult", "MergeSettings", "merge"]
