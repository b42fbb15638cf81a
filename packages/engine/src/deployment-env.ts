import { EngineError } from "./errors.js";
import type { DeploymentInfo } from "./runtime/services.js";
import type { Store } from "./store/store.js";

const META_KEY = "deployment_env";
const NAME_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_]{0,39}$/;
const BUILT_IN = ["CONVEX_CLOUD_URL", "CONVEX_SITE_URL"];

/**
 * Deployment env vars (`process.env` inside functions), persisted in the data
 * folder as the Convex dashboard keeps them. `CONVEX_CLOUD_URL` and
 * `CONVEX_SITE_URL` are always present and cannot be overridden.
 */
export class DeploymentEnv {
  private readonly vars: Record<string, string>;
  private readonly live: Record<string, string>;

  constructor(
    private readonly store: Store,
    private readonly deployment: DeploymentInfo,
  ) {
    const saved = store.getMeta(META_KEY);
    this.vars = saved ? (JSON.parse(saved) as Record<string, string>) : {};
    this.live = {};
    this.refreshLive();
  }

  /** The user-set variables. */
  list(): Record<string, string> {
    return { ...this.vars };
  }

  /** Sets (or with null removes) a variable and persists the set. */
  set(name: string, value: string | null): void {
    if (!NAME_PATTERN.test(name)) {
      throw new EngineError(
        "InvalidEnvVarName",
        `Invalid env var name "${name}": use letters, digits and underscores, starting with a letter or underscore (at most 40).`,
      );
    }
    if (BUILT_IN.includes(name)) throw new EngineError("InvalidEnvVarName", `${name} is set by the engine and cannot be changed.`);
    if (value !== null && value.length > 8192) throw new EngineError("InvalidEnvVarValue", `The value of ${name} exceeds 8 KiB.`);
    if (value === null) delete this.vars[name];
    else this.vars[name] = value;
    this.store.setMeta(META_KEY, JSON.stringify(this.vars));
    this.refreshLive();
  }

  /** The object functions see as `process.env`; updated in place when a variable changes. */
  functionEnv(): Record<string, string> {
    return this.live;
  }

  private refreshLive(): void {
    for (const key of Object.keys(this.live)) delete this.live[key];
    Object.assign(this.live, this.vars, {
      CONVEX_CLOUD_URL: this.deployment.cloudUrl,
      CONVEX_SITE_URL: this.deployment.siteUrl,
    });
  }
}
