"""KAM: key-account (大客户) management for workbooks branch staff already use."""

__version__ = "0.1.0"
