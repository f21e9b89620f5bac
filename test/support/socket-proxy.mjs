// A unix-socket proxy to the Docker engine, run as its own process so a test can kill it (the
// engine goes away: every connection closes) or send it SIGUSR1 (the engine hangs: connections
// stay open, nothing more is forwarded either way, new ones are accepted and never answered).
// Usage: node socket-proxy.mjs LISTEN_PATH [TARGET_PATH]; prints "ready" once it listens.
import { rmSync } from 'node:fs';
import net from 'node:net';

const [listenPath, targetPath = '/var/run/docker.sock'] = process.argv.slice(2);
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
