/**
 * Text edits against the original Dockerfile string. slimpy never re-prints a Dockerfile: every
 * change is an insertion or a small replacement at an exact offset, so comments, spacing, line
 * continuations, CRLF and the escape directive survive byte-for-byte everywhere else.
 */
import type { Run } from 'dockerfile-ast';
import {
  isExecForm,
  joinContinuations,
  nextLineStart,
  offsetAt,
  type ParsedDockerfile,
  type SourceText,
} from './parse.js';

export interface TextEdit {
  /** Offset into the original text where the edit starts. */
  offset: number;
  /** The original text this edit replaces; empty for a pure insertion. */
  removed: string;
  inserted: string;
}

export function insertion(offset: number, inserted: string): TextEdit {
  return { offset, removed: '', inserted };
}

export function replacement(
  source: SourceText,
  start: number,
  end: number,
  inserted: string,
): TextEdit {
  return { offset: start, removed: source.text.slice(start, end), inserted };
}

/** Applies edits given against the original text; insertions at one offset keep their given order. */
export function applyTextEdits(text: string, edits: readonly TextEdit[]): string {
  const ordered = edits
    .map((edit, order) => ({ edit, order }))
    .sort((a, b) => a.edit.offset - b.edit.offset || a.order - b.order)
    .map(({ edit }) => edit);
  let result = '';
  let cursor = 0;
  for (const edit of ordered) {
    if (edit.offset < cursor) {
      throw new Error(`overlapping Dockerfile edits at offset ${edit.offset}`);
    }
    if (text.slice(edit.offset, edit.offset + edit.removed.length) !== edit.removed) {
      throw new Error(`Dockerfile edit at offset ${edit.offset} does not match the original text`);
    }
    result += text.slice(cursor, edit.offset) + edit.inserted;
    cursor = edit.offset + edit.removed.length;
  }
  return result + text.slice(cursor);
}

export type RunEdit = { edits: TextEdit[] } | { skip: string };

export interface AppendOptions {
  /**
   * True when another of slimpy's commands is already appended at the same place: that command
   * ends in a plain command, so this one follows it with `&&` whatever the original ends with.
   */
  chained?: boolean;
}

/**
 * Makes `command` run at the end of an existing RUN, inside the same layer. Returns why not when
 * the RUN's form leaves no safe place for it.
 */
export function appendToRun(
  parsed: ParsedDockerfile,
  run: Run,
  command: string,
  options: AppendOptions = {},
): RunEdit {
  if (isExecForm(run)) {
    return {
      skip: 'it is in exec form (a JSON array), which has no shell to append to; write it in shell form to have it slimmed',
    };
  }
  const heredocs = run.getHeredocs();
  if (heredocs.length === 0) return appendToShellCommand(parsed, run, command, options);
  return isBareHeredocScript(parsed, run)
    ? appendToHeredocScript(parsed, run, command)
    : appendToHeredocCommand(parsed, run, command, options);
}

function appendToShellCommand(
  parsed: ParsedDockerfile,
  run: Run,
  command: string,
  options: AppendOptions,
): RunEdit {
  const { source, escapeChar } = parsed;
  const end = offsetAt(source, run.getRange().end);
  const argumentsStart = offsetAt(source, run.getInstructionRange().end);
  const raw = source.text.slice(argumentsStart, end);
  if (raw.trimEnd().endsWith(escapeChar)) {
    return { skip: `it ends with a dangling line continuation (${escapeChar})` };
  }
  const joint = shellJoint(joinContinuations(raw, escapeChar));
  if ('skip' in joint) return joint;
  const trailing = raw.length - raw.trimEnd().length;
  return { edits: [insertion(end - trailing, `${jointText(joint, options)}${command}`)] };
}

function jointText(joint: { text: string }, options: AppendOptions): string {
  return options.chained ? ' && ' : joint.text;
}

/** `RUN <<EOF` with nothing else on the line: Docker runs the body as a script. */
function isBareHeredocScript(parsed: ParsedDockerfile, run: Run): boolean {
  const { source } = parsed;
  const start = offsetAt(source, run.getInstructionRange().end);
  const firstLineEnd = source.text.slice(start).search(/\r\n|\n|\r|$/);
  const firstLine = source.text.slice(start, start + firstLineEnd);
  const withoutFlags = firstLine.replace(/(^|\s)--\S+/g, ' ');
  return /^\s*(?:<<-?\s*(["']?)\w+\1\s*)+$/.test(withoutFlags);
}

function appendToHeredocScript(parsed: ParsedDockerfile, run: Run, command: string): RunEdit {
  const { source } = parsed;
  const [heredoc, ...others] = run.getHeredocs();
  if (heredoc === undefined || others.length > 0) {
    return {
      skip: 'it feeds several here-documents to one command; slimpy cannot tell which is the script',
    };
  }
  const delimiter = heredoc.getDelimiterRange();
  if (delimiter === null) {
    return { skip: `its here-document ${heredoc.getName()} has no terminator line` };
  }
  const content = heredoc.getContentRange();
  const body =
    content === null
      ? ''
      : source.text.slice(offsetAt(source, content.start), offsetAt(source, content.end));
  const shebang = /^#!(.*)/.exec(body)?.[1];
  if (shebang !== undefined && !/\b(?:sh|bash|ash|dash|zsh|ksh)\b/.test(shebang)) {
    return { skip: `its here-document is a #!${shebang.trim()} script, not a shell script` };
  }
  // A new last line of the script, just before the terminator line.
  const lineStart = source.lineStarts[delimiter.start.line] ?? source.text.length;
  return { edits: [insertion(lineStart, `${command}${source.eol}`)] };
}

/** `RUN cmd <<EOF ... EOF`: the shell reads the body as input; the command line is ours to extend. */
function appendToHeredocCommand(
  parsed: ParsedDockerfile,
  run: Run,
  command: string,
  options: AppendOptions,
): RunEdit {
  const { source, escapeChar } = parsed;
  const lines = new Set(run.getHeredocs().map((heredoc) => heredoc.getStartRange().start.line));
  const [line, ...others] = [...lines];
  if (line === undefined || others.length > 0) {
    return { skip: 'its here-documents start on different lines' };
  }
  const lineEnd = nextLineStart(source, line) - lineBreakLength(source, line);
  const argumentsStart = offsetAt(source, run.getInstructionRange().end);
  const commandLine = source.text.slice(argumentsStart, lineEnd);
  if (commandLine.trimEnd().endsWith(escapeChar)) {
    return { skip: `its here-document line ends with a line continuation (${escapeChar})` };
  }
  const joint = shellJoint(joinContinuations(commandLine, escapeChar));
  if ('skip' in joint) return joint;
  const trailing = commandLine.length - commandLine.trimEnd().length;
  return { edits: [insertion(lineEnd - trailing, `${jointText(joint, options)}${command}`)] };
}

function lineBreakLength(source: SourceText, line: number): number {
  const next = source.lineStarts[line + 1];
  if (next === undefined) return 0;
  return source.text.slice(next - 2, next) === '\r\n' ? 2 : 1;
}

/** What goes between the existing command and the prune, or why nothing safely can. */
function shellJoint(command: string): { text: string } | { skip: string } {
  const trimmed = command.trimEnd();
  if (hasShellComment(trimmed)) {
    return {
      skip: 'its command contains a shell comment (#), which would swallow anything appended to it',
    };
  }
  if (/(?:&&|\|\|?)$/.test(trimmed)) {
    return { skip: 'its command ends with a dangling operator' };
  }
  if (/(?:^|[^&])&$/.test(trimmed)) {
    return { skip: 'its command ends in a background job (&), which the prune must not race' };
  }
  return { text: trimmed.endsWith(';') ? ' ' : ' && ' };
}

/** True when an unquoted `#` starts a word: the shell ignores the rest of the line from there. */
export function hasShellComment(command: string): boolean {
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < command.length; i += 1) {
    const char = command.charAt(i);
    if (quote === "'") {
      if (char === "'") quote = undefined;
    } else if (char === '\\') {
      i += 1;
    } else if (quote === '"') {
      if (char === '"') quote = undefined;
    } else if (char === '"' || char === "'") {
      quote = char;
    } else if (char === '#' && (i === 0 || /[\s;&|()]/.test(command.charAt(i - 1)))) {
      return true;
    }
  }
  return false;
}
