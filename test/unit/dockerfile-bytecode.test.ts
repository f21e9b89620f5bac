import { describe, expect, it } from 'vitest';
import { plannedBytecode } from '../../src/dockerfile/plan.js';

function compiledBytecode(dockerfile: string, options: { target?: string }) {
  return plannedBytecode(dockerfile, { ...options, buildKit: true });
}

const FROM = 'FROM python:3.11-slim\n';

describe('bytecode compiled on purpose', () => {
  it.each([
    ['ENV UV_COMPILE_BYTECODE=1', 'UV_COMPILE_BYTECODE=1'],
    ['ENV UV_LINK_MODE=copy UV_COMPILE_BYTECODE=true', 'UV_COMPILE_BYTECODE=1'],
    ['ARG UV_COMPILE_BYTECODE=1', 'UV_COMPILE_BYTECODE=1'],
    ['RUN UV_COMPILE_BYTECODE=1 uv sync --frozen', 'UV_COMPILE_BYTECODE=1'],
    ['RUN uv sync --frozen --compile-bytecode', 'uv --compile-bytecode'],
    ['RUN uv pip install --system --compile -r requirements.txt', 'uv --compile-bytecode'],
    ['RUN pip install --compile -r requirements.txt', 'pip install --compile'],
    ['RUN python -m pip install --no-cache-dir --compile fastapi', 'pip install --compile'],
    ['RUN python3 -m compileall -q /app', 'python -m compileall'],
    ['RUN ["python3.11", "-m", "compileall", "/app"]', 'python -m compileall'],
  ])('%s', (line, evidence) => {
    expect(compiledBytecode(`${FROM}${line}\n`, {})).toEqual({ line: 2, evidence });
  });

  it.each([
    ['ENV UV_COMPILE_BYTECODE=0'],
    ['RUN pip install --no-compile -r requirements.txt'],
    ['RUN pip install -r requirements.txt'],
    ['RUN uv sync --frozen'],
    ['RUN echo compileall'],
  ])('not for %s', (line) => {
    expect(compiledBytecode(`${FROM}${line}\n`, {})).toBeUndefined();
  });

  it('counts the stages that reach the target, through COPY --from', () => {
    const dockerfile = [
      'FROM python:3.11 AS builder',
      'ENV UV_COMPILE_BYTECODE=1',
      'RUN uv sync',
      'FROM python:3.11 AS tests',
      'RUN pip install --compile pytest',
      'FROM python:3.11-slim',
      'COPY --from=builder /app/.venv /app/.venv',
      '',
    ].join('\n');
    expect(compiledBytecode(dockerfile, {})).toEqual({
      line: 2,
      evidence: 'UV_COMPILE_BYTECODE=1',
    });
    expect(compiledBytecode(dockerfile, { target: 'tests' })).toEqual({
      line: 5,
      evidence: 'pip install --compile',
    });
    const unrelated = dockerfile.replace('COPY --from=builder /app/.venv /app/.venv', 'RUN true');
    expect(compiledBytecode(unrelated, {})).toBeUndefined();
  });
});
