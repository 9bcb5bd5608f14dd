// Child process of bench/fleet.ts: a lean fake RRAS fleet. `ports` TLS listeners on 127.0.0.1, each answering
// every request head the way HTTP.sys answers the SSTP health check (401, Connection: close), so every probe is
// its own TCP connect + full TLS handshake. No session tickets: a probe never resumes a session.
// It runs apart from the process under test so its CPU is not counted as the prober's.
//
// IPC: receives {type:'start', ports, cert, key}, answers {type:'ready', ports:[...]};
//      receives {type:'stats'}, answers {type:'stats', ...FleetStats}; {type:'stop'} exits.
import { constants } from 'node:crypto';
import type net from 'node:net';
import tls from 'node:tls';

export interface FleetStats {
  connections: number;
  handshakes: number;
  requests: number;
  tlsErrors: number;
  /** CPU seconds (user + system) of this process so far. */
  cpuSeconds: number;
  at: number;
}

const RESPONSE_TAIL =
  '\r\nContent-Length: 0\r\nServer: Microsoft-HTTPAPI/2.0\r\nWWW-Authenticate: Negotiate\r\nConnection: close\r\n\r\n';

const stats = { connections: 0, handshakes: 0, requests: 0, tlsErrors: 0 };
const servers: tls.Server[] = [];

function serve(socket: tls.TLSSocket): void {
  stats.handshakes++;
  socket.on('error', () => {});
  let head = '';
  const onData = (chunk: Buffer): void => {
    head += chunk.toString('latin1');
    if (!head.includes('\r\n\r\n')) {
      if (head.length > 65536) socket.destroy();
      return;
    }
    socket.off('data', onData);
    stats.requests++;
    socket.end(`HTTP/1.1 401 Unauthorized\r\nDate: ${new Date().toUTCString()}${RESPONSE_TAIL}`);
  };
  socket.on('data', onData);
}

async function start(ports: number, cert: string, key: string): Promise<number[]> {
  const options: tls.TlsOptions = { cert, key, secureOptions: constants.SSL_OP_NO_TICKET };
  const bound: number[] = [];
  for (let i = 0; i < ports; i++) {
    const server = tls.createServer(options, serve);
    server.on('connection', (raw: net.Socket) => {
      stats.connections++;
      raw.on('error', () => {});
    });
    server.on('tlsClientError', () => stats.tlsErrors++);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => resolve());
    });
    servers.push(server);
    bound.push((server.address() as net.AddressInfo).port);
  }
  return bound;
}

function snapshot(): FleetStats {
  const cpu = process.cpuUsage();
  return { ...stats, cpuSeconds: (cpu.user + cpu.system) / 1e6, at: Date.now() };
}

process.on('message', (message: { type: string; ports?: number; cert?: string; key?: string }) => {
  if (message.type === 'start') {
    start(message.ports!, message.cert!, message.key!).then(
      (ports) => process.send!({ type: 'ready', ports }),
      (err: unknown) => process.send!({ type: 'error', message: String(err) }),
    );
  } else if (message.type === 'stats') {
    process.send!({ type: 'stats', ...snapshot() });
  } else if (message.type === 'stop') {
    for (const server of servers) server.close();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
