"""A batch job in one stage: builds a table with NumPy and pyarrow, aggregates it with DuckDB."""
