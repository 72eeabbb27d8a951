"""Group insight over the register (DOMAIN §9): 考核, 风险敞口, 预警通报 and 趋势.

Every figure is computed from the register's own rows (kam.insight.facts), so HQ can
check each one against the sheets it comes from.
"""

# The register package first: its modules (merge, writer) use this one's, and this one's
# use register.columns; loading it fully first keeps the import order one-way.
import kam.register  # noqa: F401
