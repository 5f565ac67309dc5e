// Coalesces concurrent requests into bounded batches, run one at a time.

interface Pending<I, O> {
  item: I;
  resolve: (out: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Items submitted by any number of callers within one turn of the event loop
 * (up to the next `setImmediate`) are run together, `maxBatch` at a time in
 * arrival order; runs never overlap, so whatever arrives during a run waits
 * for it and then goes together into the next. Each caller gets its own
 * results, in order; a failed run rejects only the callers with items in it.
 */
export class CoalescingBatcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private scheduled = false;
  private running = false;

  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly maxBatch: number,
  ) {
    if (!(maxBatch >= 1)) throw new Error('maxBatch must be at least 1');
  }

  submit(items: readonly I[]): Promise<O[]> {
    if (items.length === 0) return Promise.resolve([]);
    const results = items.map(
      (item) =>
        new Promise<O>((resolve, reject) => {
          this.queue.push({ item, resolve, reject });
        }),
    );
    this.schedule();
    return Promise.all(results);
  }

  private schedule(): void {
    if (this.scheduled || this.running || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          const out = await this.run(batch.map((p) => p.item));
          if (out.length !== batch.length) {
            throw new Error(`a batch of ${batch.length} gave ${out.length} results`);
          }
          batch.forEach((p, i) => p.resolve(out[i]));
        } catch (error) {
          for (const p of batch) p.reject(error);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
