/**
 * Reads a Dockerfile into stages with exact source offsets. dockerfile-ast does the parsing; this
 * module only groups its instructions into stages and maps its line/character positions back to
 * offsets in the original string, so that later edits can be spliced in without re-printing.
 */
import {
  Arg,
  Copy,
  DockerfileParser,
  type Add,
  From,
  Run,
  type Dockerfile,
  type Instruction,
} from 'dockerfile-ast';

/** A Dockerfile that slimpy cannot work with; `line` (1-based) points at the culprit when known. */
export class DockerfileError extends Error {
  override readonly name = 'DockerfileError';
  readonly line: number | undefined;

  constructor(message: string, line?: number) {
    super(line === undefined ? message : `Dockerfile line ${line}: ${message}`);
    this.line = line;
  }
}

/** A zero-based line/character position, as dockerfile-ast reports them. */
export interface SourcePosition {
  line: number;
  character: number;
}

export interface SourceText {
  text: string;
  /** The file's own line ending, used for every line slimpy inserts. */
  eol: '\n' | '\r\n';
  /** Offset of the first character of each line. */
  lineStarts: number[];
}

export interface GlobalArg {
  name: string;
  /** The default after `=` as written (quotes kept); undefined for `ARG NAME` without one. */
  value: string | undefined;
}

export interface ParsedStage {
  index: number;
  /** The name after `AS`, as written (Docker compares stage names case-insensitively). */
  name: string | undefined;
  from: From;
  /** Every instruction of the stage, its FROM first. */
  instructions: Instruction[];
  /** 1-based line of the FROM. */
  line: number;
}

export interface ParsedDockerfile {
  source: SourceText;
  ast: Dockerfile;
  escapeChar: string;
  /** The `# syntax=` directive's value, if any. */
  syntax: string | undefined;
  /** ARGs declared before the first FROM: the only variables a FROM line can use. */
  globalArgs: GlobalArg[];
  stages: ParsedStage[];
}

export function parseDockerfile(text: string): ParsedDockerfile {
  if (text.trim() === '') {
    throw new DockerfileError(
      'the Dockerfile is empty; point slimpy at the Dockerfile that builds your image',
    );
  }
  const ast = DockerfileParser.parse(text);
  const instructions = ast.getInstructions();
  const firstFrom = instructions.findIndex((instruction) => instruction instanceof From);
  if (firstFrom === -1) {
    throw new DockerfileError(
      'no FROM instruction found; is this a Dockerfile? It must start a build stage with FROM <image>',
    );
  }
  assertOnlyArgsBeforeFrom(instructions.slice(0, firstFrom));
  const syntax = ast.getDirectives().find((directive) => directive.getName() === 'syntax');
  return {
    source: indexSource(text),
    ast,
    escapeChar: ast.getEscapeCharacter(),
    syntax: syntax?.getValue(),
    globalArgs: ast.getInitialARGs().flatMap((arg) => argDeclarations(arg)),
    stages: groupStages(instructions.slice(firstFrom)),
  };
}

function assertOnlyArgsBeforeFrom(preamble: Instruction[]): void {
  const stray = preamble.find((instruction) => instruction.getKeyword() !== 'ARG');
  if (stray) {
    throw new DockerfileError(
      `${stray.getKeyword()} appears before the first FROM; only ARG may come before FROM`,
      stray.getRange().start.line + 1,
    );
  }
}

function groupStages(instructions: Instruction[]): ParsedStage[] {
  const stages: ParsedStage[] = [];
  for (const instruction of instructions) {
    if (instruction instanceof From) {
      stages.push(newStage(instruction, stages.length));
    } else {
      stages[stages.length - 1]?.instructions.push(instruction);
    }
  }
  return stages;
}

function newStage(from: From, index: number): ParsedStage {
  const line = from.getRange().start.line + 1;
  if (from.getImage() === null) {
    throw new DockerfileError('FROM names no image; write FROM <image> [AS <name>]', line);
  }
  return { index, name: from.getBuildStage() ?? undefined, from, instructions: [from], line };
}

/**
 * `ARG A=1 B` declares two variables; dockerfile-ast's getProperty() only sees the first. The
 * value is kept as written (quotes, escapes): BuildKit processes it like any word.
 */
export function argDeclarations(arg: Arg): GlobalArg[] {
  return arg.getProperties().map((property) => ({
    name: property.getName(),
    value: property.getUnescapedValue() ?? undefined,
  }));
}

export function indexSource(text: string): SourceText {
  const lineStarts = [0];
  for (const match of text.matchAll(/\r\n|\n|\r/g)) {
    lineStarts.push(match.index + match[0].length);
  }
  return { text, eol: text.includes('\r\n') ? '\r\n' : '\n', lineStarts };
}

export function offsetAt(source: SourceText, position: SourcePosition): number {
  const start = source.lineStarts[position.line];
  if (start === undefined) {
    throw new Error(`line ${position.line} is outside the Dockerfile`);
  }
  return Math.min(start + position.character, source.text.length);
}

/** Offset of the first character of the line after `line` (zero-based), or the end of text. */
export function nextLineStart(source: SourceText, line: number): number {
  return source.lineStarts[line + 1] ?? source.text.length;
}

/**
 * The command of a RUN (or the sources of a COPY) as the shell will see it: line continuations
 * joined, and the comment lines Docker drops inside a continued instruction removed. Only used to
 * recognise what a command does, never written back.
 */
export function joinedArguments(instruction: Instruction, escapeChar: string): string {
  return joinContinuations(instruction.getRawArgumentsContent() ?? '', escapeChar);
}

/** Joins `escapeChar`-continued lines and drops the comment lines Docker drops inside them. */
export function joinContinuations(raw: string, escapeChar: string): string {
  const lines = raw.split(/\r\n|\n|\r/).filter((line) => !line.trimStart().startsWith('#'));
  let joined = '';
  for (const line of lines) {
    const trimmed = line.trimEnd();
    if (trimmed.endsWith(escapeChar)) {
      joined += trimmed.slice(0, -escapeChar.length) + ' ';
    } else {
      joined += line + '\n';
    }
  }
  return joined.trimEnd();
}

/** True when the instruction is written in exec (JSON array) form. */
export function isExecForm(instruction: Run | Copy | Add): boolean {
  return instruction.getOpeningBracket() !== null && instruction.getClosingBracket() !== null;
}

/** The words of a COPY (or ADD) after its flags: sources then destination, in either form. */
export function copyWords(copy: Copy | Add, escapeChar: string): string[] {
  return (
    execFormWords(copy, escapeChar) ?? copy.getArguments().map((argument) => argument.getValue())
  );
}

/** A RUN's command as text, exec form included, for recognising what it does. */
export function runCommand(run: Run, escapeChar: string): string {
  return execFormWords(run, escapeChar)?.join(' ') ?? joinedArguments(run, escapeChar);
}

function execFormWords(instruction: Run | Copy | Add, escapeChar: string): string[] | undefined {
  if (!isExecForm(instruction)) return undefined;
  // dockerfile-ast drops spaces inside JSON strings; JSON.parse keeps them.
  try {
    const parsed: unknown = JSON.parse(joinedArguments(instruction, escapeChar));
    if (Array.isArray(parsed) && parsed.every((word) => typeof word === 'string')) return parsed;
  } catch {
    // Docker runs an unparsable JSON array as shell form, and so do we.
  }
  return undefined;
}

/**
 * The 1-based line of the instruction a builder names in a failure (`[builder 4/5] RUN pip …`
 * from BuildKit, `RUN pip …` from the classic builder), for an annotation on that line; the first
 * match when several instructions read the same, undefined when none does.
 */
export function instructionLine(text: string, named: string): number | undefined {
  const wanted = squash(named.replace(/^\[[^\]]*\]\s*/, ''));
  if (wanted === '') return undefined;
  const ast = DockerfileParser.parse(text);
  const escapeChar = ast.getEscapeCharacter();
  // Builders print the keyword in capitals whatever the file says; the arguments as written.
  const found = ast
    .getInstructions()
    .find(
      (instruction) =>
        squash(
          `${instruction.getKeyword().toUpperCase()} ${joinedArguments(instruction, escapeChar)}`,
        ) === wanted,
    );
  return found ? found.getRange().start.line + 1 : undefined;
}

function squash(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
