import duckdb
import numpy as np
import pyarrow as pa


def main() -> None:
    batch = pa.table({"k": np.arange(10_000) % 7, "v": np.arange(10_000, dtype=np.float64)})
    rows = duckdb.sql("SELECT k, sum(v) AS total FROM batch GROUP BY k ORDER BY k").fetchall()
    print(f"{len(rows)} groups, total {sum(total for _, total in rows):.0f}")


if __name__ == "__main__":
    main()
