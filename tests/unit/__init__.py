"""Unit tests of the pure time-series functions (no network, no I/O)."""
