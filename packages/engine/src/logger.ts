/**
 * Where the engine reports what it does. A leaf module (no imports) so every layer —
 * storage, scheduler, the app host — can take a logger without importing the
 * composition root (`engine.ts`) that creates one.
 */
export interface EngineLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string, e?: unknown): void;
}

/** The default logger: the process's console. */
export function consoleLogger(): EngineLogger {
  return {
    info: (m) => console.log(m),
    warn: (m) => console.warn(m),
    error: (m, e) => console.error(m, e ?? ""),
  };
}
