/**
 * Issue 12, "Done when": the `toolchain` fix rule on the real engine, through the whole session.
 * Each fixture (test/fixtures/toolchain/) installs gcc and libpq's headers and compiles a program
 * linking libpq; the smoke test runs it, which calls into libpq (a connection attempt that fails
 * on the missing server). Every fixture's install is the same text, with the apt caches on cache
 * mounts, so the package layer and the downloads are shared by the cases and their rebuilds.
 *
 * - same lifetime: the install joins the RUN that compiles, the build-only packages are purged
 *   there; libpq5 stays because the program needs it, which the naive purge (slimpy's purge
 *   without `apt-mark manual libpq5`, in a container of the original) proves by breaking it;
 * - builder stage: a RUN and a USER switch sit between install and use;
 * - the toolchain is needed at runtime (the app compiles at start): the culprit search names the
 *   rule and the delivered image keeps gcc.
 * Debian stages only: no Alpine or RHEL base can be made on the test engines (those paths are
 * unit-tested, test/unit/toolchain-plan.test.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runContainer } from '../../src/engine/containers.js';
import { chooseBuilder, engineFacts } from '../../src/engine/docker.js';
import { removeOwnObjects } from '../../src/engine/images.js';
import { slimpyLabels } from '../../src/engine/labels.js';
import type { SlimpyReport } from '../../src/model/report.js';
import { engineMissing, testDocker } from '../support/engine.js';
import { slimFixture } from '../support/session.js';

const docker = testDocker();
const runId = `test-toolchain-${process.pid}`;
const work = mkdtempSync(path.join(os.tmpdir(), 'slimpy-toolchain-'));
const FIXTURES = fileURLToPath(new URL('../fixtures/toolchain/', import.meta.url));
const engine = engineMissing() ? undefined : await engineFacts(docker);
/** The fixtures' cache mounts need BuildKit. */
const buildKit = engine !== undefined && chooseBuilder(engine).builder === 'buildkit';

afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  if (!engineMissing()) await removeOwnObjects(docker, runId);
});

let runs = 0;

/** Slims one of the fixture's Dockerfiles with the defaults and `inputs` over them. */
async function slim(
  dockerfile: string,
  inputs: Record<string, string>,
): Promise<Awaited<ReturnType<typeof slimFixture>>> {
  runs += 1;
  const name = `${runs}-${dockerfile}`;
  return slimFixture({
    fixture: FIXTURES,
    work,
    name,
    runId,
    inputs: { file: dockerfile, ...inputs },
  });
}

function toolchainFinding(report: SlimpyReport) {
  return report.findings?.find((finding) => finding.kind === 'build-toolchain');
}

function saved(report: SlimpyReport, category: string): number {
  return report.slim?.savings.find((saving) => saving.category === category)?.bytes ?? 0;
}

async function packagesIn(image: string): Promise<string[]> {
  const run = await runContainer(docker, {
    image,
    entrypoint: ['dpkg-query', '-W', '-f', '${Package}\n'],
    timeoutMs: 60_000,
    labels: slimpyLabels(runId),
  });
  return run.output.split('\n').filter(Boolean);
}

describe.skipIf(engineMissing() || !buildKit)('the toolchain rule on the real engine', () => {
  it('same lifetime: the toolchain leaves in the RUN that uses it, libpq5 stays because the program needs it', async () => {
    const result = await slim('Dockerfile.same-lifetime', { 'smoke-test': 'pgping' });
    const { report } = result;
    const finding = toolchainFinding(report);
    expect(report.findings, 'the findings of the original saw the toolchain').toBeDefined();
    expect(result.logs.join('\n')).toMatch(/build-only; \d+ ELF files no package owns need libpq5/);
    const slimmed = report.slim!;
    expect(slimmed.notes).toContain('Kept libpq5: needed by bin/pgping (libpq.so.5).');
    expect(slimmed.notes.join('\n')).toMatch(/Moved the install at line 5 into the RUN at line 12/);
    expect(report.smoke?.after?.passed, report.smoke?.after?.output).toBe(true);
    expect(report.smoke?.after?.output).toMatch(/libpq \d+: no connection: .*refused/s);
    // The toolchain left the delivered image, and its row left the findings.
    const toolchain = saved(report, 'toolchain');
    expect(toolchain).toBeGreaterThan(100e6);
    expect(finding).toBeUndefined();
    const packages = await packagesIn(report.after!.id);
    expect(packages).toContain('libpq5');
    expect(packages).not.toContain('gcc-12');
    expect(packages).not.toContain('libpq-dev');

    // The naive purge: slimpy's purge without marking libpq5 manual, run in a container of the
    // original image, takes the library along and the program no longer starts.
    const purge = /apt-get purge -y --auto-remove ([^&\n]+)/.exec(slimmed.patch)?.[1]?.trim();
    expect(slimmed.patch).toContain(
      `apt-mark manual libpq5 && apt-get purge -y --auto-remove ${purge}`,
    );
    const naive = await runContainer(docker, {
      image: report.before.id,
      entrypoint: ['sh', '-c'],
      // No capabilities in the container: apt must not try to drop privileges itself.
      cmd: [
        `apt-get -o APT::Sandbox::User=root purge -y -qq --auto-remove ${purge} >/dev/null && pgping`,
      ],
      user: '0',
      timeoutMs: 120_000,
      labels: slimpyLabels(runId),
    });
    expect(naive.exitCode).not.toBe(0);
    expect(naive.output).toMatch(/libpq\.so\.5: cannot open shared object file/);
  });

  it('builder stage: a USER switch between install and use; the final stage installs libpq5 only and keeps the user', async () => {
    const result = await slim('Dockerfile.builder-stage', { 'smoke-test': '/home/app/pgping' });
    const { report } = result;
    const notes = report.slim!.notes.join('\n');
    expect(notes).toMatch(/Made stage 0 \(line 3\) a builder stage `slimpy-build`/);
    expect(notes).toMatch(/installs only `libpq5`/);
    expect(report.slim!.patch).toContain('FROM ${PYTHON_IMAGE} AS slimpy-build');
    expect(report.smoke?.after?.passed, report.smoke?.after?.output).toBe(true);
    expect(report.smoke?.after?.output).toMatch(/refused/);
    expect(saved(report, 'toolchain')).toBeGreaterThan(100e6);
    expect(toolchainFinding(report)).toBeUndefined();
    const config = (await docker.getImage(report.after!.id).inspect()).Config;
    expect(config.User).toBe('app');
    expect(config.WorkingDir).toBe('/home/app');
    const packages = await packagesIn(report.after!.id);
    expect(packages).toContain('libpq5');
    expect(packages).not.toContain('gcc');
  });

  it('the toolchain needed at runtime: the culprit search names the rule, the delivered image keeps gcc', async () => {
    const result = await slim('Dockerfile.runtime-gcc', {
      'smoke-test': 'python3 compile_at_import.py && pgping',
      strip: 'false',
      prune: 'none',
    });
    const { report } = result;
    expect(report.slim?.culprit).toBe('toolchain');
    expect(report.slim?.variant.fix).not.toContain('toolchain');
    expect(report.smoke?.after?.passed, report.smoke?.after?.output).toBe(true);
    expect(report.smoke?.after?.output).toMatch(/compiled a helper at runtime/);
    const packages = await packagesIn(report.after!.id);
    expect(packages).toContain('gcc');
    const finding = toolchainFinding(report);
    expect(finding?.unfixed).toMatch(
      /culprit search delivered the variant without the `toolchain` rule/,
    );
  });
});
