/**
 * Variable expansion cases, each a Dockerfile that ends in a probe: `ENV SLIMPY_PROBE=<word>`
 * (the word expanded as BuildKit expands ENV values, COPY paths and the like) or
 * `WORKDIR <word>`, then a RUN that writes the result to /slimpy-probe. The values BuildKit gave
 * were recorded once on the real engine (test/fixtures/expansion/recorded.json, written by
 * `SLIMPY_RECORD_EXPANSION=1 npx vitest run --project integration test/integration/expansion.test.itg.ts`);
 * the unit test compares slimpy's expansion with them, the integration test re-runs the probes.
 */

export interface ExpansionCase {
  name: string;
  /** The Dockerfile before the probe; `FROM base` is the probe image (tagged by the test). */
  dockerfile: string[];
  buildArgs?: Record<string, string>;
  /** `env`: `ENV SLIMPY_PROBE=<word>`; `workdir`: `WORKDIR <word>`. */
  kind: 'env' | 'workdir';
  word: string;
}

/** The image name every case builds FROM; the integration test tags its base image so. */
export const PROBE_BASE = 'slimpy-probe-base:latest';

export const EXPANSION_CASES: ExpansionCase[] = [
  {
    name: 're-declared global ARG takes the global default',
    dockerfile: ['ARG VENV_PATH=/prod_venv', 'FROM base', 'ARG VENV_PATH'],
    kind: 'env',
    word: '${VENV_PATH}',
  },
  {
    name: 'a global ARG not re-declared is not in the stage',
    dockerfile: ['ARG VENV_PATH=/prod_venv', 'FROM base'],
    kind: 'env',
    word: '${VENV_PATH:-unset}',
  },
  {
    name: 'a build arg overrides the global default of a re-declared ARG',
    dockerfile: ['ARG VENV_PATH=/prod_venv', 'FROM base', 'ARG VENV_PATH'],
    buildArgs: { VENV_PATH: '/from-build-arg' },
    kind: 'env',
    word: '$VENV_PATH',
  },
  {
    name: 'a build arg overrides a stage ARG default',
    dockerfile: ['FROM base', 'ARG APP_HOME=/srv/app'],
    buildArgs: { APP_HOME: '/home/app' },
    kind: 'env',
    word: '${APP_HOME}/src',
  },
  {
    name: 'a build arg for an undeclared ARG is not in scope',
    dockerfile: ['FROM base'],
    buildArgs: { NOT_DECLARED: '/x' },
    kind: 'env',
    word: '${NOT_DECLARED:-unset}',
  },
  {
    name: 'ENV from a re-declared global ARG (the issue pattern)',
    dockerfile: [
      'ARG VENV_PATH=/prod_venv',
      'FROM base',
      'ARG VENV_PATH',
      'ENV VIRTUAL_ENV=${VENV_PATH}',
    ],
    kind: 'env',
    word: '$VIRTUAL_ENV',
  },
  {
    name: 'chained references: global ARG, stage ARG, ENV',
    dockerfile: [
      'ARG ROOT=/opt',
      'ARG VENV=${ROOT}/venv',
      'FROM base',
      'ARG VENV',
      'ARG LIB=${VENV}/lib',
      'ENV SITE=${LIB}/python3.11/site-packages',
    ],
    kind: 'env',
    word: '${SITE}',
  },
  {
    name: 'values on one ENV line see the scope before the line',
    dockerfile: ['FROM base', 'ENV A=/first', 'ENV A=/second B=$A'],
    kind: 'env',
    word: '$A:$B',
  },
  {
    name: 'escaped newlines in an ENV list',
    dockerfile: [
      'FROM base',
      'ENV PYTHONUNBUFFERED=1 \\',
      '    VENV=/opt/venv \\',
      '    PATH_BEFORE="${VENV:-none}"',
      'ENV PATH_AFTER="${VENV}/bin"',
    ],
    kind: 'env',
    word: '${PATH_BEFORE}|${PATH_AFTER}',
  },
  {
    name: 'ENV wins over an ARG of the same name, declared before',
    dockerfile: ['FROM base', 'ARG TARGET=/from-arg', 'ENV TARGET=/from-env'],
    kind: 'env',
    word: '$TARGET',
  },
  {
    name: 'ENV wins over an ARG of the same name, declared after',
    dockerfile: ['FROM base', 'ENV TARGET=/from-env', 'ARG TARGET=/from-arg'],
    kind: 'env',
    word: '$TARGET',
  },
  {
    name: ':- and - on an empty value',
    dockerfile: ['FROM base', 'ENV EMPTY='],
    kind: 'env',
    word: '${EMPTY:-colon}|${EMPTY-plain}|${UNSET-plain}',
  },
  {
    name: ':+ and + on set and empty values',
    dockerfile: ['FROM base', 'ENV SET=/x EMPTY='],
    kind: 'env',
    word: '${SET:+/alt}|${EMPTY:+/alt}|${EMPTY+/alt}|${UNSET+/alt}',
  },
  {
    name: 'a default word that is itself a reference',
    dockerfile: ['FROM base', 'ARG FALLBACK=/fallback'],
    kind: 'env',
    word: '${UNSET:-${FALLBACK}/venv}',
  },
  {
    name: 'quotes and escapes',
    dockerfile: ['FROM base', 'ENV A=/a SINGLE=\'$A\' DOUBLE="$A b"'],
    kind: 'env',
    word: '$SINGLE|$DOUBLE|\\$A',
  },
  {
    name: 'ENV carries over to a stage built FROM this one, ARG does not',
    dockerfile: ['FROM base AS one', 'ARG ONLY_HERE=/arg', 'ENV CARRIED=/env', 'FROM one'],
    kind: 'env',
    word: '${CARRIED}|${ONLY_HERE:-gone}',
  },
  {
    name: 'TARGETARCH once declared in the stage',
    dockerfile: ['FROM base', 'ARG TARGETARCH'],
    kind: 'env',
    word: '/opt/$TARGETARCH',
  },
  {
    name: 'TARGETARCH is not in a stage that does not declare it',
    dockerfile: ['FROM base'],
    kind: 'env',
    word: '${TARGETARCH:-undeclared}',
  },
  {
    name: 'trimming and replacing',
    dockerfile: ['FROM base', 'ENV P=/usr/local/lib/python3.11/site-packages'],
    kind: 'env',
    word: '${P%/*}|${P##*/}|${P#/usr}|${P/local/opt}',
  },
  {
    name: 'relative WORKDIRs join the one in force',
    dockerfile: ['FROM base', 'WORKDIR /app', 'ENV SUB=src', 'WORKDIR $SUB'],
    kind: 'workdir',
    word: '.venv',
  },
  {
    name: 'a WORKDIR from a re-declared global ARG',
    dockerfile: ['ARG APP_HOME=/srv/app', 'FROM base', 'ARG APP_HOME', 'WORKDIR ${APP_HOME}'],
    kind: 'workdir',
    word: './lib/../bin',
  },
];

/** The whole Dockerfile of a case: its lines, the probe, and the RUN that writes the result. */
export function probeDockerfile(c: ExpansionCase): string {
  const probe =
    c.kind === 'env'
      ? [`ENV SLIMPY_PROBE=${c.word}`, `RUN printf '%s' "$SLIMPY_PROBE" >/slimpy-probe`]
      : [`WORKDIR ${c.word}`, 'RUN pwd | tr -d "\\n" >/slimpy-probe'];
  return [...c.dockerfile, ...probe, ''].join('\n');
}
