// A unix-socket proxy to the Docker engine, run as its own process so a test can kill it (the
// engine goes away: every connection closes) or send it SIGUSR1 (the engine hangs: connections
// stay open, nothing more is forwarded either way, new ones are accepted and never answered).
// Usage: node socket-proxy.mjs LISTEN_PATH [TARGET_PATH] [REQUEST_LOG]; prints "ready" once it
// listens. With REQUEST_LOG, each API request line seen (`POST /v1.45/build?…`) is appended to it.
import { appendFileSync, rmSync } from 'node:fs';
import net from 'node:net';

const [listenPath, targetPath = '/var/run/docker.sock', requestLog] = process.argv.slice(2);
const REQUEST_LINE = /^(GET|HEAD|POST|PUT|DELETE) (\S+) HTTP\/1\.[01]\r$/gm;
const logRequests = (chunk) => {
  const lines = [...chunk.toString('latin1').matchAll(REQUEST_LINE)].map(
    (m) => `${m[1]} ${m[2]}\n`,
  );
  if (lines.length > 0) appendFileSync(requestLog, lines.join(''));
};
let frozen = false;
process.on('SIGUSR1', () => (frozen = true));
rmSync(listenPath, { force: true });
net
  .createServer((client) => {
    const upstream = net.connect(targetPath);
    const forward = (from, to) =>
      from.on('data', (chunk) => {
        if (!frozen) to.write(chunk);
      });
    if (requestLog) client.on('data', logRequests);
    forward(client, upstream);
    forward(upstream, client);
    for (const socket of [client, upstream]) {
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      socket.on('end', () => (frozen ? undefined : (socket === client ? upstream : client).end()));
    }
  })
  .listen(listenPath, () => process.stdout.write('ready\n'));
