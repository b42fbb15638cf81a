import { parentPort, workerData } from "node:worker_threads";
import { currentSyscallTarget } from "../syscall-router.js";
import { RunClock } from "../run-clock.js";
import type { ActionWorkerStart, FromActionWorker, ToActionWorker } from "./action-protocol.js";
import { WorkerActionHost } from "./worker-action-host.js";

/**
 * Entry of an action worker thread (built to JavaScript by `worker-script.ts`). It keeps
 * its own copy of the app and runs the actions and HTTP actions the main thread's pool
 * hands it, one at a time. It owns no database connection: everything an action asks of
 * the engine is an op answered by the main thread. A run past its time limit is stopped by
 * terminating this thread.
 */

const start = workerData as ActionWorkerStart;
const port = parentPort!;
const post = (message: FromActionWorker, transfer?: Transferable[]) => port.postMessage(message, transfer as never);
const host = new WorkerActionHost(start.deployment, new RunClock(start.clock), post);
if (start.app !== null) host.setApp(start.app);

port.on("message", (message: ToActionWorker) => {
  switch (message.kind) {
    case "app":
      host.setApp(message.app);
      return;
    case "run":
      if (message.run.kind === "action") void host.runAction(message.run);
      else void host.runHttpAction(message.run);
      return;
    case "opResult":
      host.answer(message.runId, message.opId, message.value, message.error);
      return;
  }
});

// A promise user code rejected without handling, or a timer callback that threw, must not
// end the thread (and whatever runs next on it): it becomes an error line of the run it
// came from, as the function's own console.error would, or the engine's log.
const stray = (e: unknown) => {
  const text = e instanceof Error ? (e.stack ?? e.message) : String(e);
  const target = currentSyscallTarget();
  if (target !== undefined) target.log("ERROR", `Unhandled error: ${text}`);
  else post({ kind: "internal", text: `unhandled error in an action worker: ${text}` });
};
process.on("unhandledRejection", stray);
process.on("uncaughtException", stray);
