import { describe, expect, it } from 'vitest';
import { buildKitOnlyUses, describeUses } from '../../src/dockerfile/buildkit-only.js';

describe('Dockerfile features only BuildKit understands', () => {
  it('finds BuildKit-only flags and here-documents, with their lines', () => {
    const text = [
      'FROM python:3.11-slim AS build',
      'RUN --mount=type=cache,target=/root/.cache pip install -r requirements.txt',
      'COPY --link --from=build /app /app',
      'ADD --checksum=sha256:0000 https://example.com/x.tgz /x.tgz',
      'COPY --chmod=755 run.sh /run.sh',
      'RUN <<EOF',
      'set -e',
      'FROM not-a-stage',
      'EOF',
      "COPY <<'END' /etc/motd",
      'RUN --mount=this-is-content',
      'END',
    ].join('\n');
    expect(buildKitOnlyUses(text)).toEqual([
      { line: 2, feature: 'RUN --mount' },
      { line: 3, feature: 'COPY --link' },
      { line: 4, feature: 'ADD --checksum' },
      { line: 5, feature: 'COPY --chmod' },
      { line: 6, feature: 'RUN heredoc' },
      { line: 10, feature: 'COPY heredoc' },
    ]);
  });

  it('accepts what the classic builder builds', () => {
    const text = [
      'ARG PYTHON_IMAGE=python:3.11-slim',
      'FROM ${PYTHON_IMAGE} AS builder',
      'COPY --chown=1000:1000 --from=builder /a /b',
      'ADD --chown=1000 app.tgz /srv/',
      'RUN echo $((1<<2)) "<<not-a-heredoc" \\',
      '    && pip install --no-index --find-links /tmp/wheels -r requirements.txt',
      'RUN ["python", "-c", "print(1)"]',
      'HEALTHCHECK --interval=5s CMD true',
    ].join('\n');
    expect(buildKitOnlyUses(text)).toEqual([]);
  });

  it('names every use in one line for the error message', () => {
    expect(
      describeUses([
        { line: 3, feature: 'COPY --link' },
        { line: 7, feature: 'RUN heredoc' },
      ]),
    ).toBe('COPY --link at line 3, RUN heredoc at line 7');
  });
});
