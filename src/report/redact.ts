/**
 * Keeps secret build-arg values out of everything slimpy writes. They leak further than one would
 * think: BuildKit records every ARG a RUN uses in the layer's history (`RUN |1 API_TOKEN=… /bin/sh
 * -c …`), and from there they would reach the layer table of the report, the PR comment, the job
 * summary and the size history. `core.setSecret` only masks the runner's log.
 */

/**
 * Names that say "secret", as BuildKit's SecretsUsedInArgOrEnv check reads them: a word of the
 * name (split at `_`) is one of these, and no word is `public`.
 */
const SECRET_WORDS =
  /(?:_|^)(?:apikey|auth|credentials?|key|password|pword|passwd|secret|token)(?:_|$)/i;
const PUBLIC_WORD = /(?:_|^)public(?:_|$)/i;
/** Shorter values are not masked: too short to be a real secret, and masking `1` would garble digests. */
const MIN_SECRET_LENGTH = 4;
export const MASK = '***';

export function looksSecret(name: string): boolean {
  return SECRET_WORDS.test(name) && !PUBLIC_WORD.test(name);
}

/** The values of the build args whose names look secret, longest first (so none masks part of another). */
export function secretBuildArgValues(buildArgs: Record<string, string>): string[] {
  return Object.entries(buildArgs)
    .filter(([name, value]) => looksSecret(name) && value.length >= MIN_SECRET_LENGTH)
    .map(([, value]) => value)
    .sort((a, b) => b.length - a.length);
}

export function redactText(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) {
    if (secret.length >= MIN_SECRET_LENGTH) result = result.split(secret).join(MASK);
  }
  return result;
}

/** A copy of JSON-like data with every string redacted. */
export function redactDeep<T>(value: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return value;
  return walk(value, secrets) as T;
}

function walk(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === 'string') return redactText(value, secrets);
  if (Array.isArray(value)) return value.map((item) => walk(item, secrets));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, walk(item, secrets)]),
    );
  }
  return value;
}
