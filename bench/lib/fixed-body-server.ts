// The floor of the status list's phases: a bare node:http server in its own process on loopback, answering every
// request with one fixed Buffer prepared once (the very bytes sstpwatch sent for its gzipped list), so the same
// client under the same probing shows what sending a body of that size costs with no list work at all.
// Run with forkTs (proc.ts): {type:'start', body: base64} -> {type:'ready', port}; {type:'stop'} exits.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

let server: Server | undefined;

function start(body: Buffer): Promise<number> {
  // The headers sstpwatch sends with the gzipped list, so the bytes on the wire differ by a few header bytes only.
  const headers = { 'content-type': 'application/json; charset=utf-8', 'content-encoding': 'gzip', vary: 'accept-encoding', 'content-length': body.length };
  server = createServer((_req, res) => res.writeHead(200, headers).end(body));
  return new Promise((resolve, reject) => {
    server!.once('error', reject);
    server!.listen(0, '127.0.0.1', () => resolve((server!.address() as AddressInfo).port));
  });
}

process.on('message', (message: { type: string; body?: string }) => {
  if (message.type === 'start') {
    start(Buffer.from(message.body!, 'base64')).then(
      (port) => process.send!({ type: 'ready', port }),
      (err: unknown) => process.send!({ type: 'error', message: String(err) }),
    );
  } else if (message.type === 'stop') {
    server?.close();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
