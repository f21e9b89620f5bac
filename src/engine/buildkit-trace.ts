/**
 * Decodes BuildKit's build progress as the Engine API streams it: `{"id":"moby.buildkit.trace",
 * "aux":"<base64 protobuf StatusResponse>"}`. Only the fields slimpy reads are declared
 * (moby/buildkit api/services/control/control.proto).
 */
import protobuf from 'protobufjs';

const root = protobuf.Root.fromJSON({
  nested: {
    StatusResponse: {
      fields: {
        vertexes: { rule: 'repeated', type: 'Vertex', id: 1 },
        logs: { rule: 'repeated', type: 'VertexLog', id: 3 },
      },
    },
    Vertex: {
      fields: {
        digest: { type: 'string', id: 1 },
        name: { type: 'string', id: 3 },
        cached: { type: 'bool', id: 4 },
        completed: { type: 'Timestamp', id: 6 },
        error: { type: 'string', id: 7 },
      },
    },
    VertexLog: {
      fields: {
        vertex: { type: 'string', id: 1 },
        msg: { type: 'bytes', id: 4 },
      },
    },
    Timestamp: { fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } } },
  },
});
const StatusResponse = root.lookupType('StatusResponse');

export interface TraceVertex {
  digest: string;
  name: string;
  cached: boolean;
  completed: boolean;
  error: string;
}

export interface TraceLog {
  vertex: string;
  text: string;
}

export interface BuildKitStatus {
  vertexes: TraceVertex[];
  logs: TraceLog[];
}

interface RawStatus {
  vertexes?: Array<{
    digest?: string;
    name?: string;
    cached?: boolean;
    completed?: object;
    error?: string;
  }>;
  logs?: Array<{ vertex?: string; msg?: Uint8Array }>;
}

export function decodeBuildKitTrace(base64: string): BuildKitStatus {
  const raw = StatusResponse.toObject(
    StatusResponse.decode(Buffer.from(base64, 'base64')),
  ) as RawStatus;
  return {
    vertexes: (raw.vertexes ?? []).map((v) => ({
      digest: v.digest ?? '',
      name: v.name ?? '',
      cached: v.cached ?? false,
      completed: v.completed !== undefined,
      error: v.error ?? '',
    })),
    logs: (raw.logs ?? []).map((l) => ({
      vertex: l.vertex ?? '',
      text: Buffer.from(l.msg ?? new Uint8Array()).toString('utf8'),
    })),
  };
}
