// Whether an SQLite database path can serve, checked before anything is created: one clear sentence naming the
// path and what is wrong, instead of a raw SqliteError/EEXIST/EACCES stack trace, or a recursive mkdir that never
// returns (under /proc). `config check` and `serve` both ask it.
import { accessSync, constants, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Pseudo filesystems of the kernel: nothing there can hold a database, and mkdir under /proc can hang. */
const VIRTUAL_ROOTS = ['/proc', '/sys', '/dev'];

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

/** Writable for this process: access() says so, and (root passes access() for anything) some write bit is set. */
function writable(path: string, stats: Stats): boolean {
  try {
    accessSync(path, constants.W_OK);
  } catch {
    return false;
  }
  return (stats.mode & 0o222) !== 0;
}

/**
 * Why sstpwatch cannot keep its SQLite database at `path` (absolute, as the config resolves it), or null when it can
 * (the file exists and is writable, or its nearest existing directory is writable so the file and the directories
 * missing on the way can be created). A PostgreSQL URL and ":memory:" are not paths: null.
 */
export function databasePathProblem(path: string): string | null {
  if (path === ':memory:' || /^postgres(ql)?:\/\//i.test(path)) return null;
  const file = resolve(path);
  const quoted = JSON.stringify(file);
  const root = VIRTUAL_ROOTS.find((dir) => file === dir || file.startsWith(`${dir}/`));
  if (root) return `database ${quoted} is under ${root}, a kernel pseudo-filesystem that cannot hold a database; choose a path on a disk, e.g. /var/lib/sstpwatch/sstpwatch.db`;
  const stats = statOrNull(file);
  if (stats) {
    if (stats.isDirectory()) return `database ${quoted} is a directory; give the path of a file in it, e.g. ${JSON.stringify(`${file}/sstpwatch.db`)}`;
    if (!stats.isFile()) return `database ${quoted} is not a regular file`;
    if (!writable(file, stats)) return `database ${quoted} is read-only for sstpwatch (mode ${(stats.mode & 0o777).toString(8)}); make it writable for the user sstpwatch runs as`;
    const dir = dirname(file);
    const dirStats = statOrNull(dir);
    // SQLite writes its -wal and -shm files next to the database.
    if (dirStats && !writable(dir, dirStats)) return `database ${quoted}: its directory ${JSON.stringify(dir)} is not writable, and SQLite needs to create its -wal and -shm files there`;
    return null;
  }
  // The file does not exist yet: walk up to the nearest existing ancestor, which must be a writable directory.
  let ancestor = dirname(file);
  for (;;) {
    const found = statOrNull(ancestor);
    if (found) {
      if (!found.isDirectory()) return `database ${quoted} cannot be created: ${JSON.stringify(ancestor)} is a file, not a directory`;
      if (!writable(ancestor, found)) return `database ${quoted} cannot be created: the directory ${JSON.stringify(ancestor)} is not writable for sstpwatch`;
      return null;
    }
    const parent = dirname(ancestor);
    if (parent === ancestor) return `database ${quoted} cannot be created: no part of its path exists`;
    ancestor = parent;
  }
}
