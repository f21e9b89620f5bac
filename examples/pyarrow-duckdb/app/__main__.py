import duckdb
import numpy as np
import prometheus_client
import pyarrow as pa
import pyarrow.parquet as pq

ROWS = prometheus_client.Counter("app_rows_total", "Rows aggregated")


def main() -> None:
    table = pa.table({"k": np.arange(1000) % 7, "v": np.arange(1000, dtype=np.float64)})
    pq.write_table(table, "/tmp/batch.parquet")
    rows = duckdb.sql(
        "SELECT k, sum(v) AS total FROM read_parquet('/tmp/batch.parquet') GROUP BY k ORDER BY k"
    ).fetchall()
    ROWS.inc(table.num_rows)
    print(f"{len(rows)} groups, total {sum(total for _, total in rows):.0f}")


if __name__ == "__main__":
    main()
