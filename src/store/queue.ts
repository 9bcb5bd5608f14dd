/**
 * A bounded FIFO for rows waiting to be written, the oldest dropped beyond `capacity`. `peek` hands out the oldest
 * rows with a mark, `commit(mark)` removes them once written (also when the write was asynchronous). Rows dropped
 * for room meanwhile (the oldest) are never removed twice, and rows added meanwhile are never removed at all.
 */
export class WriteQueue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;
  /** Sequence number of items[head]. */
  private headSeq = 0;

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.items.length - this.head;
  }

  /** Adds a row; returns how many of the oldest were dropped to make room (0 or 1). */
  push(item: T): number {
    this.items.push(item);
    if (this.size <= this.capacity) return 0;
    this.removeFront(1);
    return 1;
  }

  /** Up to `max` of the oldest rows, and the mark to commit once they are written. */
  peek(max: number): { rows: T[]; mark: number } {
    const rows = this.items.slice(this.head, this.head + max) as T[];
    return { rows, mark: this.headSeq + rows.length };
  }

  /** Removes the rows up to `mark` (those peek() returned with it) that are still queued. */
  commit(mark: number): void {
    this.removeFront(Math.max(0, Math.min(this.size, mark - this.headSeq)));
  }

  private removeFront(count: number): void {
    for (let i = 0; i < count; i++) this.items[this.head + i] = undefined;
    this.head += count;
    this.headSeq += count;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
