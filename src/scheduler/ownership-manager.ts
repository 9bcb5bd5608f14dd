// Keeps this instance's share of its site's virtual shards: on every rebalance tick it surveys the site (live
// peers, shards held), releases shards beyond its fair share (after their targets' probes in flight finished) and
// takes free ones up to it. Ownership is proven only by the locks of one live session: when it fails, every shard
// is given up at once, and the session is opened again with backoff.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { planShares, VIRTUAL_SHARDS } from './ownership.js';

/** The locks of one session (store/postgres/shard-locks.ts). Any rejection means the session is lost. */
export interface ShardLocks {
  survey(): Promise<{ peers: number; held: number[] }>;
  take(shard: number): Promise<boolean>;
  release(shard: number): Promise<void>;
  takeHousekeeping(): Promise<boolean>;
  onLost(handler: (err: Error) => void): void;
  close(): Promise<void>;
}

export interface OwnershipDeps {
  /** Opens a session and joins the site; rejects when PostgreSQL cannot be reached. */
  open: () => Promise<ShardLocks>;
  /**
   * Makes the instance probe exactly the targets of `shards`. Resolves once the targets of shards left out have no
   * probe in flight and those of new shards have their state restored; rejects when that state cannot be read.
   */
  apply: (shards: ReadonlySet<number>) => Promise<void>;
  log: Logger;
  site: string;
  /** Time between rebalance ticks. Default 5 s. */
  tickMs?: number;
  /** Longest pause between attempts to open the session again. Default 30 s. */
  maxBackoffMs?: number;
  /** Told after every tick that took or released shards, and whenever the owned set changes. */
  onChange?: (state: OwnershipState, rebalanced: boolean) => void;
}

export interface OwnershipState {
  site: string;
  /** The session is open: ownership can be proven. */
  connected: boolean;
  owned: number;
  peers: number;
  housekeeper: boolean;
}

export const DEFAULT_REBALANCE_MS = 5_000;

export class OwnershipManager {
  private locks: ShardLocks | null = null;
  private mine = new Set<number>();
  private peers = 0;
  private housekeeper = false;
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: AbortController | null = null;
  private backoffMs = 0;
  /** The session failed while this instance was alone in its site: it goes on probing `mine` until it is back. */
  private unproven = false;
  /** apply() calls, one at a time in order. */
  private applying: Promise<void> = Promise.resolve();
  private readonly start = Math.floor(Math.random() * VIRTUAL_SHARDS);

  constructor(private readonly deps: OwnershipDeps) {}

  state(): OwnershipState {
    return { site: this.deps.site, connected: this.locks !== null, owned: this.mine.size, peers: this.peers, housekeeper: this.housekeeper };
  }

  /** This instance runs housekeeping: it holds the database-wide housekeeping lock. */
  isHousekeeper(): boolean {
    return this.locks !== null && this.housekeeper;
  }

  /** Runs the first tick now (resolves after it) and the next ones every tickMs. */
  async begin(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.tick();
    this.loop = this.run();
  }

  /** Stops the ticks, gives up every shard (apply of none) and ends the session: PostgreSQL frees the locks. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.abort();
    await this.loop;
    const locks = this.locks;
    if (this.mine.size > 0) {
      this.mine = new Set();
      await this.applyOwned(this.mine).catch((err: unknown) => this.deps.log.error({ err }, 'stopping the probes of owned shards failed'));
    }
    await this.applying;
    this.locks = null;
    this.housekeeper = false;
    await locks?.close();
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.wake = new AbortController();
      const pause = this.locks === null && this.backoffMs > 0 ? this.backoffMs : (this.deps.tickMs ?? DEFAULT_REBALANCE_MS);
      await sleep(pause, undefined, { signal: this.wake.signal }).catch(() => undefined);
      if (!this.running) return;
      await this.tick();
    }
  }

  private async tick(): Promise<void> {
    if (this.locks === null && !(await this.connect())) return;
    const locks = this.locks!;
    try {
      if (this.unproven) await this.reclaim(locks);
      await this.rebalance(locks);
      if (!this.housekeeper && this.locks === locks) {
        this.housekeeper = await locks.takeHousekeeping();
        if (this.housekeeper) this.deps.log.info({ site: this.deps.site }, 'this instance runs housekeeping');
      }
    } catch (err) {
      if (this.locks === locks) await this.lost(locks, err instanceof Error ? err : new Error(String(err)));
    }
  }

  private async connect(): Promise<boolean> {
    try {
      const locks = await this.deps.open();
      if (!this.running) {
        await locks.close();
        return false;
      }
      this.locks = locks;
      this.backoffMs = 0;
      locks.onLost((err) => void this.lost(locks, err));
      this.deps.log.info({ site: this.deps.site }, 'shard lock session open');
      return true;
    } catch (err) {
      this.backoffMs = Math.min(this.deps.maxBackoffMs ?? 30_000, this.backoffMs === 0 ? 1_000 : this.backoffMs * 2);
      this.deps.log.warn({ site: this.deps.site, reason: err instanceof Error ? err.message : String(err), retryInMs: this.backoffMs }, 'shard lock session cannot open; retrying');
      return false;
    }
  }

  private async rebalance(locks: ShardLocks): Promise<void> {
    const survey = await locks.survey();
    if (this.locks !== locks) return;
    this.peers = survey.peers;
    const plan = planShares({ peers: survey.peers, mine: this.mine, held: new Set(survey.held), start: this.start });
    if (plan.release.length > 0) {
      // stop probing them and let their probes in flight finish before another instance may take them
      const kept = new Set([...this.mine].filter((shard) => !plan.release.includes(shard)));
      this.mine = kept;
      await this.applyOwned(kept);
      for (const shard of plan.release) await locks.release(shard);
      this.changed(true, { released: plan.release.length, share: plan.share });
      return;
    }
    const taken: number[] = [];
    for (const shard of plan.take) {
      if (this.locks !== locks) return;
      if (await locks.take(shard)) taken.push(shard);
    }
    if (taken.length === 0 || this.locks !== locks) return;
    const next = new Set([...this.mine, ...taken]);
    try {
      await this.applyOwned(next);
      if (this.locks !== locks) return; // lost meanwhile: its apply(nothing) follows this one
      this.mine = next;
    } catch (err) {
      this.deps.log.error({ site: this.deps.site, shards: taken.length, reason: err instanceof Error ? err.message : String(err) }, 'shards taken but their targets could not be restored; releasing them');
      await this.applyOwned(this.mine);
      for (const shard of taken) await locks.release(shard);
      return;
    }
    this.changed(true, { taken: taken.length, share: plan.share });
  }

  /**
   * Back after a session failure survived alone: takes its shards again; any a peer took meanwhile (one that started
   * during the outage) it stops probing now.
   */
  private async reclaim(locks: ShardLocks): Promise<void> {
    const gone: number[] = [];
    for (const shard of this.mine) if (!(await locks.take(shard))) gone.push(shard);
    this.unproven = false;
    if (gone.length === 0) {
      this.deps.log.info({ site: this.deps.site, owned: this.mine.size }, 'shards taken again after the session came back');
      return;
    }
    this.mine = new Set([...this.mine].filter((shard) => !gone.includes(shard)));
    this.deps.log.warn({ site: this.deps.site, owned: this.mine.size, lost: gone.length }, 'a peer took shards while the session was down; stopped probing them');
    await this.applyOwned(this.mine);
    this.changed(true, { released: gone.length });
  }

  /**
   * The session failed: nothing proves ownership any more, so probing stops at once for every shard. Except when
   * the last survey found this instance alone in its site (PostgreSQL down under a single instance): then it goes
   * on probing from memory, as the store keeps results for later, and takes its shards again once it is back.
   */
  private async lost(locks: ShardLocks, err: Error): Promise<void> {
    if (this.locks !== locks) return;
    this.locks = null;
    this.housekeeper = false;
    this.backoffMs = 1_000;
    if (this.peers <= 1 && this.mine.size > 0) {
      this.unproven = true;
      this.deps.log.warn({ site: this.deps.site, owned: this.mine.size, reason: err.message }, 'shard lock session lost while alone in the site: probing goes on until it is back');
      await locks.close();
      this.changed(false, {});
      this.wake?.abort();
      return;
    }
    const owned = this.mine.size;
    this.mine = new Set();
    this.deps.log.error({ site: this.deps.site, owned, reason: err.message }, 'shard lock session lost: probing stopped until the shards are taken again');
    await locks.close();
    await this.applyOwned(new Set()).catch((applyErr: unknown) => this.deps.log.error({ err: applyErr }, 'stopping the probes of lost shards failed'));
    this.changed(false, {});
    this.wake?.abort();
  }

  private applyOwned(shards: ReadonlySet<number>): Promise<void> {
    const applied = this.applying.then(() => this.deps.apply(new Set(shards)));
    this.applying = applied.catch(() => undefined);
    return applied;
  }

  private changed(rebalanced: boolean, fields: Record<string, number>): void {
    const state = this.state();
    if (rebalanced) this.deps.log.info({ ...fields, site: state.site, owned: state.owned, peers: state.peers }, 'shards rebalanced');
    this.deps.onChange?.(state, rebalanced);
  }
}
