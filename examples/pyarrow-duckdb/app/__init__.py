"""A small service in the millpond shape: reads a batch, queries it with DuckDB, exports metrics."""
