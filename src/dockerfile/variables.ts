/**
 * Docker's own variable substitution, for the places where slimpy must know a value the builder
 * will compute: the image in a FROM line, a `--from=` value, a COPY source path, an ENV value.
 * It follows BuildKit's shell lexer (frontend/dockerfile/shell/lex.go): quotes are removed, the
 * escape character keeps the next character literal, and `$NAME` / `${NAME...}` are substituted.
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
 * Expands variables only: `$NAME`, `${NAME}`, and the `${NAME...}` forms of {@link processWord};
 * quotes stay as they are. The escape character before `$` keeps it literal, as in Docker.
 */
export function expandVariables(
  text: string,
  lookup: VariableLookup,
  escapeChar = '\\',
): Expansion {
  return lex(text, lookup, escapeChar, false);
}

/**
 * A word as BuildKit reads it in ENV, ARG, WORKDIR, COPY and the like: single quotes keep their
 * content literal, double quotes allow substitution, the escape character keeps the next
 * character literal, and variables are substituted (`:-`, `-`, `:+`, `+`, `:?`, `?`, and the
 * trimming and replacing forms `#`, `##`, `%`, `%%`, `/`, `//`).
 */
export function processWord(text: string, lookup: VariableLookup, escapeChar = '\\'): Expansion {
  return lex(text, lookup, escapeChar, true);
}

function lex(text: string, lookup: VariableLookup, escapeChar: string, quotes: boolean): Expansion {
  const out: Expansion = { value: '', unresolved: [] };
  let i = 0;
  while (i < text.length) {
    const char = text.charAt(i);
    if (quotes && char === "'") {
      const close = text.indexOf("'", i + 1);
      const end = close === -1 ? text.length : close;
      out.value += text.slice(i + 1, end);
      i = end + 1;
    } else if (quotes && char === '"') {
      i = doubleQuoted(text, i + 1, lookup, escapeChar, out);
    } else if (char === escapeChar && i + 1 < text.length && (quotes || text[i + 1] === '$')) {
      out.value += text.charAt(i + 1);
      i += 2;
    } else if (char === '$') {
      i = dollar(text, i, lookup, escapeChar, out);
    } else {
      out.value += char;
      i += 1;
    }
  }
  return out;
}

/** Reads a double-quoted part starting after its `"`; returns the offset after the closing `"`. */
function doubleQuoted(
  text: string,
  start: number,
  lookup: VariableLookup,
  escapeChar: string,
  out: Expansion,
): number {
  let i = start;
  while (i < text.length && text.charAt(i) !== '"') {
    const char = text.charAt(i);
    const next = text.charAt(i + 1);
    if (char === escapeChar && (next === '"' || next === '$' || next === escapeChar)) {
      out.value += next;
      i += 2;
    } else if (char === '$') {
      i = dollar(text, i, lookup, escapeChar, out);
    } else {
      out.value += char;
      i += 1;
    }
  }
  return i + 1;
}

/** Substitutes the reference at `text[at] === '$'`; a `$` that starts none stays literal. */
function dollar(
  text: string,
  at: number,
  lookup: VariableLookup,
  escapeChar: string,
  out: Expansion,
): number {
  const reference = readReference(text, at + 1);
  if (reference === undefined) {
    out.value += '$';
    return at + 1;
  }
  const expanded = substitute(reference, lookup, escapeChar);
  out.value += expanded.value;
  out.unresolved.push(...expanded.unresolved);
  return reference.end;
}

interface Reference {
  name: string;
  /** The operator after the name (`:-`, `-`, `:+`, `+`, `:?`, `?`, `#`, `##`, `%`, `%%`, `/`, `//`) and its word. */
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
  const parts = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:[-+?]|[-+?]|##?|%%?|\/\/?)(.*))?$/s.exec(body);
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
  if (modifier === undefined || /^:?\?$/.test(modifier.operator)) {
    return current === undefined
      ? { value: '', unresolved: [reference.name] }
      : { value: current, unresolved: [] };
  }
  const word = (): Expansion => processWord(modifier.word, lookup, escapeChar);
  if (/^:?[-+]$/.test(modifier.operator)) {
    const set = modifier.operator.startsWith(':') ? Boolean(current) : current !== undefined;
    const useWord = modifier.operator.endsWith('-') ? !set : set;
    if (useWord) return word();
    return { value: modifier.operator.endsWith('-') ? (current ?? '') : '', unresolved: [] };
  }
  if (current === undefined) return { value: '', unresolved: [reference.name] };
  return { value: trimOrReplace(current, modifier.operator, word().value), unresolved: [] };
}

/** `#`/`##` trim a prefix, `%`/`%%` a suffix (shortest/longest), `/`/`//` replace first/all. */
function trimOrReplace(value: string, operator: string, word: string): string {
  if (operator.startsWith('/')) {
    const [pattern = '', replacement = ''] = splitReplacement(word);
    const regex = new RegExp(globSource(pattern), operator === '//' ? 'g' : '');
    return pattern === '' ? value : value.replace(regex, () => replacement);
  }
  const greedy = operator.length === 2;
  const glob = globSource(word);
  const candidates = [...Array(value.length + 1).keys()];
  if (operator.startsWith('#')) {
    const cuts = greedy ? candidates.reverse() : candidates;
    const cut = cuts.find((n) => new RegExp(`^${glob}$`, 's').test(value.slice(0, n)));
    return cut === undefined ? value : value.slice(cut);
  }
  const cuts = greedy ? candidates : candidates.reverse();
  const cut = cuts.find((n) => new RegExp(`^${glob}$`, 's').test(value.slice(n)));
  return cut === undefined ? value : value.slice(0, cut);
}

function splitReplacement(word: string): [string, string] {
  const slash = word.indexOf('/');
  return slash === -1 ? [word, ''] : [word.slice(0, slash), word.slice(slash + 1)];
}

/** A shell pattern (`*`, `?`, `[...]`) as regular-expression source. */
function globSource(pattern: string): string {
  let source = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const char = pattern.charAt(i);
    if (char === '*') source += '.*?';
    else if (char === '?') source += '.';
    else if (char === '[') {
      const close = pattern.indexOf(']', i + 1);
      if (close === -1) source += '\\[';
      else {
        source += `[${pattern
          .slice(i + 1, close)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')}]`;
        i = close;
      }
    } else source += char.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return source;
}
