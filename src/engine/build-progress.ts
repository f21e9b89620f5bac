/**
 * Reads the build's JSON event stream (classic builder and BuildKit alike) into log lines, the
 * built image id and, on failure, the failing instruction. dockerode's followProgress reports no
 * error for a failed build, so the `error`/`errorDetail` events are checked here.
 */
import { decodeBuildKitTrace } from './buildkit-trace.js';

export interface BuildEvent {
  stream?: string;
  status?: string;
  id?: string;
  aux?: unknown;
  error?: string;
  errorDetail?: { message?: string };
}

const TAIL_LINES = 60;

export class BuildProgress {
  imageId: string | undefined;
  error: string | undefined;
  /** The instruction that failed, as the builder names it (`[builder 4/5] RUN pip install …`). */
  failedInstruction: string | undefined;
  private readonly tail: string[] = [];
  private readonly vertexNames = new Map<string, string>();
  private readonly announced = new Set<string>();
  private currentStep: string | undefined;
  /**
   * The unfinished last line of each output (the classic stream, each BuildKit vertex): a process
   * that writes a line in several writes (`printf a; printf b; echo`) reaches us in several
   * chunks, which are one line to the user.
   */
  private readonly partial = new Map<string, string>();

  constructor(private readonly onLine: (line: string) => void = () => {}) {}

  /** The last lines of the log, for error messages (bounded: a build log can be hundreds of MB). */
  lastLines(): string[] {
    return [...this.tail];
  }

  handle(event: BuildEvent): void {
    if (event.error || event.errorDetail) {
      this.error = event.errorDetail?.message ?? event.error ?? 'build failed';
      this.failedInstruction ??= this.currentStep;
      this.emit(`ERROR: ${this.error}`);
      return;
    }
    if (event.id === 'moby.buildkit.trace' && typeof event.aux === 'string') {
      this.handleTrace(event.aux);
      return;
    }
    if (event.aux && typeof event.aux === 'object' && 'ID' in event.aux) {
      this.imageId = String((event.aux as { ID: unknown }).ID);
      return;
    }
    if (typeof event.stream === 'string') this.handleClassicText(event.stream);
    else if (event.status) this.emit(event.id ? `${event.id}: ${event.status}` : event.status);
  }

  private handleClassicText(text: string): void {
    for (const line of this.completeLines('classic', text)) {
      if (line.trim() === '') continue;
      const step = /^Step \d+\/\d+ : (.*)$/.exec(line);
      if (step) this.currentStep = step[1];
      this.emit(line);
    }
  }

  /** The lines `text` completes for output `key`; the rest waits for the next chunk or finish(). */
  private completeLines(key: string, text: string): string[] {
    const lines = ((this.partial.get(key) ?? '') + text).split('\n');
    this.partial.set(key, lines.pop() ?? '');
    return lines;
  }

  /** Emits what is left of unfinished lines, once the stream has ended. */
  finish(): void {
    for (const [key, rest] of this.partial) {
      if (rest.trim() !== '') this.emit(key === 'classic' ? rest : `   ${rest}`);
    }
    this.partial.clear();
  }

  private handleTrace(aux: string): void {
    const status = decodeBuildKitTrace(aux);
    for (const vertex of status.vertexes) {
      if (vertex.name) this.vertexNames.set(vertex.digest, vertex.name);
      const name = this.vertexNames.get(vertex.digest) ?? vertex.digest;
      if (!this.announced.has(vertex.digest) && vertex.name) {
        this.announced.add(vertex.digest);
        this.emit(`=> ${vertex.name}`);
      }
      if (vertex.completed && vertex.cached) this.emit(`=> CACHED ${name}`);
      if (vertex.error) {
        this.failedInstruction ??= name;
        this.emit(`=> ERROR ${name}: ${vertex.error}`);
      }
    }
    for (const log of status.logs) {
      for (const line of this.completeLines(`vertex ${log.vertex}`, log.text)) {
        if (line.trim() !== '') this.emit(`   ${line}`);
      }
    }
  }

  private emit(line: string): void {
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES) this.tail.shift();
    this.onLine(line);
  }
}

/** Splits a byte stream of newline-delimited JSON into events; ignores lines that are not JSON. */
export async function* readBuildEvents(
  stream: AsyncIterable<Buffer | string>,
): AsyncGenerator<BuildEvent> {
  let pending = '';
  for await (const chunk of stream) {
    pending += chunk.toString();
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      const event = parseEvent(line);
      if (event) yield event;
    }
  }
  const event = parseEvent(pending.trim());
  if (event) yield event;
}

function parseEvent(line: string): BuildEvent | undefined {
  if (line === '') return undefined;
  try {
    return JSON.parse(line) as BuildEvent;
  } catch {
    return undefined;
  }
}
