// A unix-socket proxy to the Docker engine, run as its own process so a test can kill it (the
// engine "goes away") or send it SIGUSR1 (the engine stops answering but keeps connections open).
// Usage: node socket-proxy.mjs LISTEN_PATH [TARGET_PATH]; prints "ready" once it listens.
import { rmSync } from 'node:fs';
import net from 'node:net';

const [listenPath, targetPath = '/var/run/docker.sock'] = process.argv.slice(2);
let frozen = false;
const sockets = new Set();
process.on('SIGUSR1', () => {
  frozen = true;
  for (const socket of sockets) socket.pause();
});
rmSync(listenPath, { force: true });
net
  .createServer((client) => {
    const upstream = net.connect(targetPath);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      if (frozen) socket.pause();
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      socket.on('close', () => sockets.delete(socket));
    }
    client.pipe(upstream);
    upstream.pipe(client);
  })
  .listen(listenPath, () => process.stdout.write('ready\n'));
