import { EngineError } from "../../errors.js";
import type { CallOutcome } from "../function-outcome.js";
import type { WireMutationOutcome } from "./writer-protocol.js";
import type { RemoteMutation } from "./writer-types.js";

// The outcomes a mutation run on the writer is answered with (main thread).

/** An outcome as the writer sent it, with the success's value parsed from its text. */
export function fromWire(wire: WireMutationOutcome): CallOutcome {
  if (wire.status === "error") return wire;
  return { status: "success", value: JSON.parse(wire.valueText) as CallOutcome extends { value: infer V } ? V : never, valueText: wire.valueText, logLines: wire.logLines, ts: wire.ts };
}

/** A mutation whose batch was stopped before it committed: nothing of it was written. */
export function stopped(item: RemoteMutation, reason: "timeout" | "crash", timeoutMs: number): CallOutcome {
  const error =
    reason === "timeout"
      ? new EngineError("FunctionTimeout", `${item.remote.path} ran longer than ${timeoutMs / 1000} s and was stopped; its writes were discarded.`)
      : new EngineError("WriterStopped", "The engine's writer stopped before this mutation committed; nothing of it was written.", "transient");
  return { status: "error", errorMessage: error.message, logLines: item.logLines };
}

/** A mutation whose commit may or may not be durable (the writer died in COMMIT, or the WAL sync failed). */
export function unknownOutcome(item: RemoteMutation): CallOutcome {
  return { status: "error", errorMessage: "The engine's writer stopped while committing; retry to learn whether this mutation was applied.", logLines: item.logLines };
}
