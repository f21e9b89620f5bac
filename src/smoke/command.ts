/** What a smoke test runs, and how to start it in images with and without a shell. */

export interface SmokeCommand {
  /** The argv a report shows. */
  display: string[];
  /**
   * Argvs to run (as the container's entrypoint, replacing the image's ENTRYPOINT and CMD),
   * tried in order: the next one only when the engine finds no executable for the previous.
   */
  attempts: string[][];
  /** The failure to report when no attempt could start. */
  unstartable: string;
}

/**
 * A user-given `smoke-test` string runs as `/bin/sh -c <string>`, like a Dockerfile's shell-form
 * RUN. In an image without /bin/sh (distroless), it falls back to splitting the string into words
 * the way sh would for plain commands (quotes and backslashes honoured) and exec'ing them directly;
 * a string that needs a shell (pipes, `$VAR`, globs, `&&`, redirections) cannot fall back.
 */
export function userSmokeCommand(text: string): SmokeCommand {
  const command = text.trim();
  if (!command) throw new Error('smoke-test is empty: give a command, "auto" or "off"');
  const shell = ['/bin/sh', '-c', command];
  const words = splitCommandWords(command);
  return {
    display: shell,
    attempts: words?.length ? [shell, words] : [shell],
    unstartable: words?.length
      ? `the image has neither /bin/sh nor ${JSON.stringify(words[0])} to run the smoke test`
      : 'the image has no /bin/sh, and the smoke-test command uses shell syntax, so it cannot run without one; ' +
        'give a command without pipes, variables, globs or redirections',
  };
}

/** Characters that mean something to sh when unquoted: a plain exec cannot honour them. */
const SHELL_SYNTAX = new Set([...'|&;<>()$`*?[~#{}!\n']);
/** Inside double quotes a backslash escapes only these. */
const DOUBLE_QUOTE_ESCAPES = new Set([...'$`"\\\n']);

/**
 * Splits a command line into words as sh would for a plain command, or returns undefined when
 * the line uses shell syntax (or leaves a quote open) and so needs a real shell.
 */
export function splitCommandWords(line: string): string[] | undefined {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line.charAt(i);
    if (c === ' ' || c === '\t') {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) return undefined;
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      const quoted = readDoubleQuoted(line, i + 1);
      if (!quoted) return undefined;
      word = (word ?? '') + quoted.text;
      i = quoted.end;
    } else if (c === '\\') {
      if (i + 1 >= line.length) return undefined;
      word = (word ?? '') + line.charAt(++i);
    } else if (SHELL_SYNTAX.has(c) || (c === '=' && word !== undefined && words.length === 0)) {
      // `NAME=value cmd` is an assignment, not a program called NAME=value.
      return undefined;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

function readDoubleQuoted(line: string, from: number): { text: string; end: number } | undefined {
  let text = '';
  for (let i = from; i < line.length; i++) {
    const c = line.charAt(i);
    if (c === '"') return { text, end: i };
    if (c === '$' || c === '`') return undefined;
    if (c === '\\' && DOUBLE_QUOTE_ESCAPES.has(line.charAt(i + 1))) {
      text += line.charAt(++i);
    } else {
      text += c;
    }
  }
  return undefined;
}
