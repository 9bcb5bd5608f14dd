// One sstpwatch per SQLite file: two would both probe every server (double load on production RRAS servers) and
// interleave their history. The lock is an exclusive SQLite lock on a sidecar database (`<database>.lock`), held by
// an open connection for the life of the process: the kernel releases it when the process ends in any way (a
// SIGKILL, a crash), so a stale lock cannot block the next start as a PID file would. Who holds it is written
// beside it (`<database>.lock.owner`) for the second instance's message.
import Database from 'better-sqlite3';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { hostname } from 'node:os';

export interface InstanceLock {
  release(): void;
}

export class InstanceLockedError extends Error {
  constructor(readonly database: string, owner: string) {
    super(`database ${JSON.stringify(database)} is in use by another sstpwatch (${owner}); stop it first, or give this one its own database`);
    this.name = 'InstanceLockedError';
  }
}

/** Takes the lock of the SQLite database at `database`, or throws InstanceLockedError naming the holder. */
export function lockDatabase(database: string, now = new Date()): InstanceLock {
  mkdirSync(dirname(database), { recursive: true }); // the path was checked (database-file.ts) before
  const lockPath = `${database}.lock`;
  const ownerPath = `${lockPath}.owner`;
  const db = new Database(lockPath, { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    // The first write in exclusive locking mode takes the lock, and the connection keeps it until it closes.
    db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER); DELETE FROM holder;');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') throw new InstanceLockedError(database, readOwner(ownerPath));
    throw err;
  }
  writeFileSync(ownerPath, `pid ${process.pid} on ${hostname()}, started ${now.toISOString()}\n`);
  return { release: () => db.close() };
}

function readOwner(ownerPath: string): string {
  try {
    return readFileSync(ownerPath, 'utf8').trim() || 'holder unknown';
  } catch {
    return 'holder unknown';
  }
}
