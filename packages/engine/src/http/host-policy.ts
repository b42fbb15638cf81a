import { isIP } from "node:net";
import { hostname as machineHostname } from "node:os";

/**
 * Which `Host` headers the engine answers (DNS rebinding defence, as Vite's
 * `server.allowedHosts`). A web page on `evil.example` can point its own DNS
 * name at 127.0.0.1 and then talk to a loopback-bound engine as "same
 * origin"; its requests still carry `Host: evil.example`, so refusing names
 * the engine does not serve under closes that door.
 *
 * Always allowed: requests without a Host (no browser sends those), any IP
 * literal (rebinding needs a DNS name; a browser that sends an IP address
 * was pointed at that address), `localhost` and `*.localhost` (browsers
 * resolve them to loopback themselves), the bound name, the public URL's
 * host, and, when bound to every interface, this machine's host name (the
 * LAN addresses are IP literals already). Anything else must be listed.
 */
export interface HostPolicy {
  /** True when a request with this `Host` header may be answered. */
  allows(hostHeader: string | undefined): boolean;
  /** The host name part of a Host header (lowercase, no port, no brackets or trailing dot). */
  nameOf(hostHeader: string): string;
}

/** What the policy is built from. */
export interface HostPolicyOptions {
  /** The address the servers bind to (`127.0.0.1`, `0.0.0.0`, a name …). */
  bindHost: string;
  /**
   * More names to serve (`--allowed-host`): `name` matches exactly, `.name`
   * matches the name and every subdomain; `true` turns the check off.
   */
  allowedHosts?: readonly string[] | true;
  /** Hosts of URLs the engine is reached under (its public URL). */
  servedUrls?: readonly string[];
}

/** Creates the Host check for both ports of one engine. */
export function createHostPolicy(options: HostPolicyOptions): HostPolicy {
  if (options.allowedHosts === true) return { allows: () => true, nameOf: hostName };
  const exact = new Set<string>();
  const suffixes: string[] = [];
  const add = (raw: string) => {
    const name = hostName(raw);
    if (name === "") return;
    if (name.startsWith(".")) {
      suffixes.push(name);
      exact.add(name.slice(1));
    } else {
      exact.add(name);
    }
  };
  for (const name of options.allowedHosts ?? []) add(name);
  for (const url of options.servedUrls ?? []) {
    try {
      add(new URL(url).host);
    } catch {
      // Not a URL: nothing to serve under it.
    }
  }
  add(options.bindHost);
  if (isWildcard(options.bindHost)) {
    // Reachable from the LAN: under this machine's name too (mDNS gives it `.local`).
    const own = machineHostname().toLowerCase();
    add(own);
    if (!own.endsWith(".local")) add(`${own}.local`);
  }
  return {
    nameOf: hostName,
    allows(hostHeader) {
      if (hostHeader === undefined || hostHeader === "") return true;
      const name = hostName(hostHeader);
      if (name === "localhost" || name.endsWith(".localhost")) return true;
      if (isIP(name) !== 0) return true;
      if (exact.has(name)) return true;
      return suffixes.some((suffix) => name.endsWith(suffix));
    },
  };
}

/** True for the addresses that mean "every interface". */
export function isWildcard(bindHost: string): boolean {
  return bindHost === "0.0.0.0" || bindHost === "::" || bindHost === "[::]";
}

/** True when a bind address only accepts connections from this machine. */
export function isLoopback(bindHost: string): boolean {
  const name = hostName(bindHost);
  if (name === "localhost" || name === "::1") return true;
  return isIP(name) === 4 && name.startsWith("127.");
}

/** `Example.COM:3210` → `example.com`; `[::1]:3210` → `::1`; a trailing dot is dropped. */
function hostName(hostHeader: string): string {
  let host = hostHeader.trim().toLowerCase();
  if (host.startsWith("[")) {
    const end = host.indexOf("]");
    host = end === -1 ? host.slice(1) : host.slice(1, end);
  } else {
    const colon = host.indexOf(":");
    // More than one colon: an unbracketed IPv6 literal (not valid in Host, but harmless).
    if (colon !== -1 && host.indexOf(":", colon + 1) === -1) host = host.slice(0, colon);
  }
  return host.endsWith(".") ? host.slice(0, -1) : host;
}
