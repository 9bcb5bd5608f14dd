// When GET /api/v1/status looks at the live state again, and what waits for it. A version is one look (a snapshot,
// status-cache.ts) with its bodies (status-list.ts). Requests are answered from the newest complete version; once it
// is STALE_MS old the next one is built, and while the list is being polled continuously the requests meanwhile are
// answered from the current one without waiting (stale-while-revalidate, as HTTP caches do): the next version
// prepares, before it is published, the bodies and encodings clients asked of the current one (at 10,000 targets
// the gzip of the full list takes longer than a request should). Only a request that finds the list quiet (nobody
// asked for the newest version, nor waited for it) and a second old, or more than MAX_STALE_MS old, waits for a
// new look: a poller every 10 s gets the state as of its request. A change made through this API (invalidate())
// shows in the very next response: that response waits for a look taken after the change.
import { StatusSnapshots, STALE_MS, type StatusListSource } from './status-cache.js';
import { GzipRuns } from './status-gzip.js';
import { StatusBodies, type StatusBody, type StatusQuery } from './status-list.js';
import { overloaded } from './errors.js';

/** The oldest look a request is answered from without waiting, while the next version is being built. */
export const MAX_STALE_MS = 2 * STALE_MS;

/**
 * The longest a request waits for a look (a starved service: 10,000 targets on a busy machine) before it is answered
 * 503 with Retry-After, well before the listener's idle timeout (30 s, connections.ts) would close its connection
 * without an answer. The look goes on: the next request is answered from it.
 */
export const STATUS_WAIT_MS = 10_000;
/** Retry-After of that 503, seconds. */
export const STATUS_RETRY_AFTER_S = 5;

export interface StatusVersion {
  bodies: StatusBodies;
  /** When the live state was looked at (the version's content may be older: it moves only when something changed). */
  lookedAt: number;
  /** The count of API writes when it looked: a version older than the last write must not answer. */
  writes: number;
  /** Looks in order: a slower build never replaces a newer look. */
  look: number;
  /** Whether a request was answered from it (at once, or once it was built): someone polls. */
  polled: boolean;
}

export class StatusVersions {
  private readonly snapshots: StatusSnapshots;
  /** The full list's compressed runs, kept from one version to the next. */
  private readonly runs = new GzipRuns();
  private published: StatusVersion | null = null;
  /** The build under way (at most one runs at a time, unless a write asks for a newer look). */
  private building: { writes: number; done: Promise<StatusVersion> } | null = null;
  private writes = 0;
  private looks = 0;
  private readonly staleMs: number;
  private readonly waitMs: number;

  constructor(
    source: StatusListSource,
    private readonly now: () => number,
    private readonly onBuildError: (err: unknown) => void,
    { staleMs = STALE_MS, waitMs = STATUS_WAIT_MS }: { staleMs?: number; waitMs?: number } = {},
  ) {
    this.staleMs = staleMs;
    this.waitMs = waitMs;
    this.snapshots = new StatusSnapshots(source);
  }

  /** Something changed through the API (maintenance set, probe now, reload): the next response shows it. */
  invalidate(): void {
    this.writes++;
  }

  /** The version to answer a request from; `fresh` waits for a look taken after this call. */
  async current(fresh = false): Promise<StatusVersion> {
    const v = this.published;
    if (v && !fresh && v.writes === this.writes) {
      const age = this.now() - v.lookedAt;
      if (age >= 0 && age < this.staleMs) {
        v.polled = true;
        return v;
      }
      if (age >= 0 && age < MAX_STALE_MS && (v.polled || this.building)) {
        v.polled = true;
        if (!this.building) void this.build().catch(this.onBuildError);
        return v;
      }
    }
    const under = this.building;
    // Counted as asked for even when the request gave up waiting: the next requests are answered from it.
    return withDeadline(askedFor(under && !fresh && under.writes === this.writes ? under.done : this.build()), this.waitMs);
  }

  /** Looks at the live state, prepares what clients asked of the current version, then publishes it. */
  private build(): Promise<StatusVersion> {
    const writes = this.writes;
    const done = this.next(writes);
    const mine = { writes, done };
    this.building = mine;
    const settle = () => {
      if (this.building === mine) this.building = null;
    };
    done.then(settle, settle);
    return done;
  }

  private async next(writes: number): Promise<StatusVersion> {
    const lookedAt = this.now();
    const look = ++this.looks;
    const snapshot = await this.snapshots.look(lookedAt);
    const previous = this.published;
    // Nothing shown changed: the same bodies, looked at again.
    const bodies = previous && previous.bodies.snapshot === snapshot ? previous.bodies : new StatusBodies(snapshot, this.runs);
    if (previous && bodies !== previous.bodies) {
      const compressing: Promise<Buffer>[] = [];
      for (const asked of previous.bodies.asked()) {
        // A query the new version refuses (a group a reload removed) is answered, with its error, on request.
        const body = tryBody(bodies, asked.query);
        if (body && asked.asked.gzip && body.compressible) compressing.push(body.gzipped());
        if (body && asked.asked.identity) body.json();
      }
      await Promise.all(compressing);
    }
    const version: StatusVersion = { bodies, lookedAt, writes, look, polled: false };
    if (!this.published || this.published.look < look) this.published = version;
    return version;
  }
}

/**
 * The version a request waited for, counted as asked for: the next requests within MAX_STALE_MS are answered from it
 * while a newer one is built. Else, when the look took longer than STALE_MS (10,000 targets on a loaded machine),
 * the version was already a second old when published, and the requests right after the one that waited would
 * each wait for yet another look, stalling every client that comes to a list nobody polled for a while.
 */
async function askedFor(done: Promise<StatusVersion>): Promise<StatusVersion> {
  const version = await done;
  version.polled = true;
  return version;
}

/** The version, or a 503 `overloaded` once it has been waited for `waitMs`. */
function withDeadline(done: Promise<StatusVersion>, waitMs: number): Promise<StatusVersion> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      const seconds = Math.round(waitMs / 100) / 10;
      reject(overloaded(`the status list was not ready within ${seconds} s: the service is overloaded (its event loop is saturated); retry in ${STATUS_RETRY_AFTER_S} s`, STATUS_RETRY_AFTER_S));
    }, waitMs);
  });
  return Promise.race([done, late]).finally(() => clearTimeout(timer));
}

function tryBody(bodies: StatusBodies, query: StatusQuery): StatusBody | null {
  try {
    return bodies.body(query);
  } catch {
    return null;
  }
}
