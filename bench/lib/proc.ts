// Process helpers for the fleet benchmark: CPU and memory of one process from /proc, child processes that talk
// over IPC, free ports.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** utime + stime of a process, in seconds (10 ms resolution). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // fields 14 and 15 of proc(5)
}

/**
 * CPU of a process and its direct children (PostgreSQL's postmaster, its backends, checkpointer...): the root's
 * utime+stime+cutime+cstime (children that exited and were waited for) plus the live children's utime+stime.
 */
export function processTreeCpuSeconds(root: number): number {
  const stat = readFileSync(`/proc/${root}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  let total = (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS; // fields 14-17 of proc(5)
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === root) total += cpuSeconds(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/** VmHWM (peak resident set) and VmRSS of a process, in bytes. */
export function memory(pid: number): { peakRss: number; rss: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { peakRss: kb('VmHWM'), rss: kb('VmRSS') };
}

/**
 * Resets a process's peak resident set (VmHWM) to its current RSS (Linux `clear_refs` 5), so that the next
 * `memory(pid).peakRss` is the peak since this call: how the fleet benchmark finds which phase sets the peak.
 * False where the kernel does not allow it (then the peak read stays the peak since the process started).
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export function loadAverage(): number[] {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A TypeScript child module run through tsx with an IPC channel; `request` sends and awaits the reply type. */
export interface IpcChild {
  child: ChildProcess;
  request<T>(message: { type: string } & Record<string, unknown>, reply: string, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

export function forkTs(modulePath: string): IpcChild {
  const child = fork(modulePath, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return {
    child,
    request<T>(message: { type: string } & Record<string, unknown>, reply: string, timeoutMs = 30_000): Promise<T> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          child.off('message', onMessage);
          reject(new Error(`${modulePath}: no ${reply} within ${timeoutMs} ms`));
        }, timeoutMs);
        const onMessage = (m: { type: string; message?: string }): void => {
          if (m.type === 'error') {
            clearTimeout(timer);
            child.off('message', onMessage);
            reject(new Error(`${modulePath}: ${m.message}`));
          } else if (m.type === reply) {
            clearTimeout(timer);
            child.off('message', onMessage);
            resolve(m as T);
          }
        };
        child.on('message', onMessage);
        child.send(message);
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      if (child.connected) child.send({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
