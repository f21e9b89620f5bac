"""Asks a PostgreSQL server whether it answers, through libpq (pgping._pq)."""
from pgping._pq import library_version, ping

__all__ = ["library_version", "ping"]
