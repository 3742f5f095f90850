/**
 * A loopback TCP relay in front of Postgres that counts the statements
 * clients execute: frontend Execute ('E', extended protocol, what postgres.js
 * uses) and Query ('Q', simple protocol) messages. pg_stat_statements is not
 * preloaded on the bench machine and openSystem() has no query hook, so the
 * wire is the one place every statement of the real path passes.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface StatementCounter {
  port: number;
  /** statements since the last reset, by message kind */
  counts(): { execute: number; query: number; total: number };
  reset(): void;
  close(): Promise<void>;
}

export async function startStatementCounter(target: { host: string; port: number }): Promise<StatementCounter> {
  let execute = 0;
  let query = 0;
  const sockets = new Set<Socket>();

  const server: Server = createServer((client) => {
    const upstream = createConnection(target);
    sockets.add(client).add(upstream);
    let started = false;
    let buf = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        if (!started) {
          // startup / SSL request: int32 length (including itself), no type byte
          if (buf.length < 4) break;
          const len = buf.readInt32BE(0);
          if (buf.length < len) break;
          const code = len >= 8 ? buf.readInt32BE(4) : 0;
          buf = buf.subarray(len);
          if (code !== 80877103) started = true; // 80877103 = SSLRequest: the real startup follows
          continue;
        }
        if (buf.length < 5) break;
        const len = buf.readInt32BE(1);
        if (buf.length < len + 1) break;
        const type = String.fromCharCode(buf[0] ?? 0);
        if (type === 'E') execute++;
        else if (type === 'Q') query++;
        buf = buf.subarray(len + 1);
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    port,
    counts: () => ({ execute, query, total: execute + query }),
    reset() {
      execute = 0;
      query = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The same database URL, reached through the counter. */
export function viaCounter(url: string, port: number): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  return u.toString();
}
