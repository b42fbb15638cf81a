import { mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import path from "node:path";

/**
 * A CPU profile of this process's main thread over chosen stretches only (the measured
 * likes of a benchmark, not its seeding or client start-up), written as a `.cpuprofile`
 * that Chrome DevTools or `speedscope` open. `--cpu-prof` covers the whole process
 * life, where set-up hides the few hundred milliseconds that matter.
 *
 * With `allocations`, a sampling heap profile instead (`.heapprofile`, DevTools' memory
 * panel): every allocation of the main thread's JavaScript heap over the stretch, by
 * stack, including objects already collected. Unlike a CPU profile it does not depend on
 * the machine's load, so it compares two checkouts on a busy machine.
 */
export class WindowProfile {
  private readonly session = new Session();
  private started = false;

  /** `dir`: where `stop` writes; `intervalUs`: the sampling interval; `allocations`: a heap profile instead. */
  constructor(private readonly dir: string, private readonly intervalUs = 250, private readonly allocations = false) {
    this.session.connect();
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (this.allocations) {
      // One sample per 4 KiB allocated on average; collected objects stay in the profile.
      await this.post("HeapProfiler.enable");
      await this.post("HeapProfiler.startSampling", { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
      return;
    }
    await this.post("Profiler.enable");
    await this.post("Profiler.setSamplingInterval", { interval: this.intervalUs });
    await this.post("Profiler.start");
  }

  /** Stops sampling and writes `<name>.cpuprofile` (`.heapprofile`); returns its path. */
  async stop(name: string): Promise<string> {
    const { profile } = (await this.post(this.allocations ? "HeapProfiler.stopSampling" : "Profiler.stop")) as { profile: unknown };
    this.started = false;
    const file = path.resolve(this.dir, `${name}.${this.allocations ? "heapprofile" : "cpuprofile"}`);
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(file, JSON.stringify(profile));
    return file;
  }

  private post(method: string, params?: object): Promise<unknown> {
    return new Promise((resolve, reject) => this.session.post(method, params ?? {}, (e, result) => (e ? reject(e) : resolve(result))));
  }
}
