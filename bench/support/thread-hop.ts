import { Worker } from "node:worker_threads";

/**
 * What one round trip to a worker thread costs on this machine, the two hops every query
 * on a query worker makes (`runtime/query-workers/`): a message shaped like a query job
 * posted to a worker that answers at once, timed after a pause of 1 ms (both threads idle,
 * as between the requests of one client: the worker must be woken, which on a virtual
 * machine can mean waking a halted vCPU) and back to back (the worker still awake).
 * Medians in microseconds. A hand-written server that answers on its own thread pays
 * neither.
 */
export async function threadHop(samples = 1_000): Promise<{ idleRoundTripUs: number; idlePostUs: number; awakeRoundTripUs: number }> {
  const worker = new Worker(`const { parentPort } = require("node:worker_threads"); parentPort.on("message", (m) => parentPort.postMessage(m));`, { eval: true });
  const job = { kind: "run", job: { id: 1, path: "posts:getGlobalFeed", args: "[{}]", identity: { subject: "user_1", issuer: "https://issuer.example" } } };
  const roundTrip = async () => {
    const answered = new Promise((resolve) => worker.once("message", resolve));
    const t0 = performance.now();
    worker.postMessage(job);
    const posted = performance.now();
    await answered;
    return { post: posted - t0, total: performance.now() - t0 };
  };
  const median = (values: number[]) => Math.round([...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]! * 1000);
  try {
    await roundTrip();
    const idle: { post: number; total: number }[] = [];
    for (let i = 0; i < samples; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      idle.push(await roundTrip());
    }
    const awake: number[] = [];
    for (let i = 0; i < samples; i++) awake.push((await roundTrip()).total);
    return { idleRoundTripUs: median(idle.map((s) => s.total)), idlePostUs: median(idle.map((s) => s.post)), awakeRoundTripUs: median(awake) };
  } finally {
    await worker.terminate();
  }
}
