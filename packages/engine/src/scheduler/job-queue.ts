import type { JobEntry } from "./job-state.js";

/**
 * Pending jobs ordered by due time, then creation order: a binary min-heap,
 * so the next due job is found in O(log n) however many wait. Entries are
 * not removed when a job is cancelled; the runner re-reads the job's state in
 * its transaction and skips it.
 */
export class JobQueue {
  private readonly heap: JobEntry[] = [];

  get size(): number {
    return this.heap.length;
  }

  /** The job due first, or undefined. */
  peek(): JobEntry | undefined {
    return this.heap[0];
  }

  push(job: JobEntry): void {
    const heap = this.heap;
    heap.push(job);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  }

  /** Removes and returns the job due first. */
  pop(): JobEntry | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last !== undefined) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l], heap[m])) m = l;
        if (r < heap.length && before(heap[r], heap[m])) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    }
    return top;
  }
}

function before(a: JobEntry, b: JobEntry): boolean {
  if (a.scheduledTime !== b.scheduledTime) return a.scheduledTime < b.scheduledTime;
  return Buffer.compare(a.key, b.key) < 0;
}
