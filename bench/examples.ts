/** The shipped examples the bench measures, and what it needs to know about each. */
import path from 'node:path';

export interface BenchExample {
  name: string;
  /** Build context, relative to the repository root. */
  context: string;
  /** The smoke test every variant must pass (run with /bin/sh -c, as slimpy runs it). */
  smoke: string;
  /** The application file, relative to the context, that the pull-request scenario changes. */
  appFile: string;
  /**
   * The millpond-style variants of the example's Dockerfile (bench/fixtures/<name>/): the same
   * file with one stage added between the builder and the final stage. Only for examples with a
   * builder stage; without them the example has no millpond rows.
   */
  millpond?: { strict: string; tolerant: string };
  /** Whether the compressed-size figures (slimpy against GNU gzip) are taken. */
  compressedFigures: boolean;
  /**
   * A directory of wheels the example's pip downloads from: served on loopback for the run
   * (scripts/wheel-index.py) and passed as the build arg WHEEL_INDEX.
   */
  index?: string;
}

export const EXAMPLES: readonly BenchExample[] = [
  {
    name: 'pyarrow-duckdb',
    context: 'examples/pyarrow-duckdb',
    smoke: 'python -c "import duckdb, pyarrow, numpy, prometheus_client" && python -m app',
    appFile: 'app/__main__.py',
    millpond: {
      strict: 'bench/fixtures/pyarrow-duckdb/Dockerfile.millpond',
      tolerant: 'bench/fixtures/pyarrow-duckdb/Dockerfile.millpond-tolerant',
    },
    compressedFigures: true,
  },
  {
    // Over 1 GB: CPU torch (from pip's find-links folder) behind a FastAPI app.
    name: 'torch-fastapi',
    context: 'bench/examples/torch-fastapi',
    smoke: 'python -c "import torch, fastapi, uvicorn, numpy" && python -m app',
    appFile: 'app/__main__.py',
    compressedFigures: false,
  },
  {
    name: 'single-stage',
    context: 'examples/single-stage',
    smoke: 'python -c "import duckdb, pyarrow, numpy" && python -m app',
    appFile: 'app/__main__.py',
    compressedFigures: false,
    // scripts/fetch-wheels.sh puts pyarrow there.
    index: path.join(process.env.SLIMPY_WHEEL_CACHE ?? '.cache/wheels', 'index', 'single-stage'),
  },
];

/** Lines from this marker to MILLPOND_END (both included) are what a fixture adds. */
export const MILLPOND_BEGIN = '# bench: millpond-style stage';
export const MILLPOND_END = '# bench: end of millpond-style stage';

/**
 * The example's Dockerfile that a millpond fixture was written from: the fixture without its
 * added stage, and with its `COPY --from=<stage>-millpond` pointed back at `<stage>`. The bench
 * refuses a fixture for which this is not the example's Dockerfile, so the variants never drift
 * from what slimpy is given.
 */
export function unmillpond(fixture: string): string {
  const lines = fixture.split('\n');
  const kept: string[] = [];
  let inside = false;
  for (const line of lines) {
    if (line.trim() === MILLPOND_BEGIN) inside = true;
    if (!inside) kept.push(line.replace(/--from=(\S+)-millpond\b/g, '--from=$1'));
    if (line.trim() === MILLPOND_END) inside = false;
  }
  return kept.join('\n');
}
