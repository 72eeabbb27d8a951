"""Adapters at the edge: reading workbook files safely, and the small workbook interface."""
