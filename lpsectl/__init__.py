"""lpsectl — the LPSE system administrator's toolkit for SPSE."""

__version__ = "0.1.0"
