/** The CLI's flags: their names, the usage text, and how they map onto the action's input names. */

export const CLI_USAGE = `Usage:
  slimpy measure --context DIR [--file F] [--target T] [--build-arg K=V]... [--network host] [--json]
  slimpy slim    --context DIR [--file F] [--smoke "CMD"] [--smoke-timeout 300s] [--no-strip]
                 [--prune a,b] [--fix a,b] [--keep GLOB]... [--keep-package NAME]... [--strict]
                 [--network host] [--json]
                 (--prune all,unused also removes what the traced smoke test never opened)
Given image:     [--image NAME|ID] takes an image already in the engine as the original: measure
                 builds nothing, slim builds only the slimmed variant (from --context/--file)
Common:          [--budget 450MB] [--budget-metric uncompressed|compressed] [--out DIR]
                 [--cache-dir DIR] [--tag NAME] [--no-compressed] [--quiet]
History:         [--history DIR] records HEAD's size there; [--base REV] [--max-growth 5%|20MB] compare;
                 [--comment-key KEY] names the image in the history (default: Dockerfile path#target)
  --json prints the report object (documented in README.md) on stdout; logs go to stderr.
  -q, --quiet prints only warnings and the result; -h, --help prints this.`;

export const CLI_OPTIONS = {
  context: { type: 'string' },
  file: { type: 'string', short: 'f' },
  image: { type: 'string' },
  target: { type: 'string' },
  'build-arg': { type: 'string', multiple: true },
  network: { type: 'string' },
  smoke: { type: 'string' },
  'smoke-timeout': { type: 'string' },
  'no-strip': { type: 'boolean' },
  prune: { type: 'string' },
  fix: { type: 'string' },
  keep: { type: 'string', multiple: true },
  'keep-package': { type: 'string', multiple: true },
  strict: { type: 'boolean' },
  budget: { type: 'string' },
  'budget-metric': { type: 'string' },
  out: { type: 'string' },
  'cache-dir': { type: 'string' },
  history: { type: 'string' },
  base: { type: 'string' },
  'max-growth': { type: 'string' },
  'comment-key': { type: 'string' },
  tag: { type: 'string' },
  'no-compressed': { type: 'boolean' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface FlagValues {
  context?: string;
  file?: string;
  image?: string;
  target?: string;
  'build-arg'?: string[];
  network?: string;
  smoke?: string;
  'smoke-timeout'?: string;
  'no-strip'?: boolean;
  prune?: string;
  fix?: string;
  keep?: string[];
  'keep-package'?: string[];
  strict?: boolean;
  budget?: string;
  'budget-metric'?: string;
  'max-growth'?: string;
  'comment-key'?: string;
  tag?: string;
  'no-compressed'?: boolean;
}

/** The flags as the action's named inputs, so one `readSettings` validates both front ends. */
export function flagInputs(
  command: 'measure' | 'slim',
  values: FlagValues,
): Record<string, string> {
  return {
    context: values.context ?? '.',
    file: values.file ?? '',
    image: values.image ?? '',
    target: values.target ?? '',
    'build-args': (values['build-arg'] ?? []).join('\n'),
    network: values.network ?? '',
    mode: command,
    'smoke-test': values.smoke ?? '',
    'smoke-timeout': values['smoke-timeout'] ?? '',
    strip: values['no-strip'] ? 'false' : 'true',
    prune: values.prune ?? '',
    fix: values.fix ?? '',
    keep: (values.keep ?? []).join('\n'),
    'keep-packages': (values['keep-package'] ?? []).join('\n'),
    strict: values.strict ? 'true' : 'false',
    budget: values.budget ?? '',
    'budget-metric': values['budget-metric'] ?? '',
    'max-growth': values['max-growth'] ?? '',
    'comment-key': values['comment-key'] ?? '',
    tag: values.tag ?? '',
    'compressed-size': values['no-compressed'] ? 'false' : 'true',
  };
}
