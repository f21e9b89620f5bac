/**
 * Docker's own variable substitution, for the few places where slimpy must know a value the
 * builder will compute: the image in a FROM line, a `--from=` value, a COPY source path.
 */

/** Returns a variable's value, or undefined when it is not defined in the scope at hand. */
export type VariableLookup = (name: string) => string | undefined;

export interface Expansion {
  value: string;
  /** Variables that had no value (Docker substitutes the empty string for them). */
  unresolved: string[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/**
 * Expands `$NAME`, `${NAME}`, `${NAME:-word}`, `${NAME-word}`, `${NAME:+word}` and `${NAME+word}`;
 * the escape character before `$` keeps it literal, as in Docker.
 */
export function expandVariables(
  text: string,
  lookup: VariableLookup,
  escapeChar = '\\',
): Expansion {
  const unresolved: string[] = [];
  let value = '';
  let i = 0;
  while (i < text.length) {
    const char = text.charAt(i);
    if (char === escapeChar && text.charAt(i + 1) === '$') {
      value += '$';
      i += 2;
    } else if (char === '$') {
      const reference = readReference(text, i + 1);
      if (reference === undefined) {
        value += char;
        i += 1;
        continue;
      }
      const expanded = substitute(reference, lookup, escapeChar);
      value += expanded.value;
      unresolved.push(...expanded.unresolved);
      i = reference.end;
    } else {
      value += char;
      i += 1;
    }
  }
  return { value, unresolved };
}

interface Reference {
  name: string;
  /** `:-`, `-`, `:+` or `+`, with the word that follows it. */
  modifier?: { operator: string; word: string };
  /** Offset just after the reference. */
  end: number;
}

function readReference(text: string, start: number): Reference | undefined {
  if (text.charAt(start) !== '{') {
    const name = NAME.exec(text.slice(start))?.[0];
    return name === undefined ? undefined : { name, end: start + name.length };
  }
  const close = closingBrace(text, start);
  if (close === undefined) return undefined;
  const body = text.slice(start + 1, close);
  const parts = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])(.*))?$/s.exec(body);
  if (!parts?.[1]) return undefined;
  const modifier =
    parts[2] === undefined ? undefined : { operator: parts[2], word: parts[3] ?? '' };
  return { name: parts[1], modifier, end: close + 1 };
}

/** The `}` that closes the `{` at `open`, skipping nested `${...}` in a default word. */
function closingBrace(text: string, open: number): number | undefined {
  let depth = 0;
  for (let i = open; i < text.length; i += 1) {
    const char = text.charAt(i);
    if (char === '{') depth += 1;
    if (char === '}') depth -= 1;
    if (depth === 0) return i;
  }
  return undefined;
}

function substitute(reference: Reference, lookup: VariableLookup, escapeChar: string): Expansion {
  const current = lookup(reference.name);
  const { modifier } = reference;
  if (modifier === undefined) {
    return current === undefined
      ? { value: '', unresolved: [reference.name] }
      : { value: current, unresolved: [] };
  }
  const set = modifier.operator.startsWith(':') ? Boolean(current) : current !== undefined;
  const useWord = modifier.operator.endsWith('-') ? !set : set;
  if (useWord) return expandVariables(modifier.word, lookup, escapeChar);
  return { value: modifier.operator.endsWith('-') ? (current ?? '') : '', unresolved: [] };
}
