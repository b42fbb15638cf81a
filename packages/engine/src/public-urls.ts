import type { NetworkInterfaceInfo } from "node:os";
import { EngineError } from "./errors.js";

/**
 * Where clients reach the deployment, which is not always where it listens.
 * Upload URLs, file URLs, `CONVEX_CLOUD_URL` and `CONVEX_SITE_URL` must carry
 * the address a client can use: a phone on the LAN cannot POST to
 * `127.0.0.1`, and a deployment behind a TLS proxy is `https://…` even though
 * it listens on plain HTTP. The origin is set with `--public-url` (or
 * `CONVEX_CLOUD_ORIGIN`, the self-hosted backend's name for it); without one,
 * an engine bound to every interface tells clients this machine's LAN
 * address, and one bound to an address tells clients that address.
 */

/** What the URLs are derived from. */
export interface PublicUrlInput {
  /** The interface the servers are bound to. */
  host: string;
  /** The ports they actually listen on (after `0` became a free port). */
  port: number;
  sitePort: number;
  /** `--public-url`: the API origin clients use. */
  publicUrl?: string;
  /** `--public-site-url`: the HTTP actions origin; default: the API origin's host with the site port. */
  publicSiteUrl?: string;
  /** `os.networkInterfaces()`, passed in so the choice can be tested. */
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>;
}

/** The deployment's URLs. */
export interface PublicUrls {
  /** The API origin clients are told (upload and file URLs, CONVEX_CLOUD_URL). */
  cloudUrl: string;
  /** The HTTP actions origin clients are told (CONVEX_SITE_URL). */
  siteUrl: string;
  /** Where this machine reaches the API (the CLI, tests): loopback when bound to every interface. */
  localCloudUrl: string;
  localSiteUrl: string;
  /** Set when the engine had to guess the public address; the caller logs it. */
  warning: string | null;
}

const WILDCARD_HOSTS = new Set(["0.0.0.0", "::", "[::]"]);

/** Works out the public and local URLs of a deployment. */
export function resolvePublicUrls(input: PublicUrlInput): PublicUrls {
  const wildcard = WILDCARD_HOSTS.has(input.host);
  const boundHost = wildcard ? "127.0.0.1" : bracketIPv6(input.host);
  const localCloudUrl = `http://${boundHost}:${input.port}`;
  const localSiteUrl = `http://${boundHost}:${input.sitePort}`;
  const lan = wildcard ? lanAddresses(input.interfaces) : [];

  let cloudUrl = localCloudUrl;
  let warning: string | null = null;
  if (input.publicUrl !== undefined) {
    cloudUrl = parseOrigin(input.publicUrl, "--public-url");
  } else if (wildcard) {
    const first = lan[0];
    if (first === undefined) {
      warning =
        `--host ${input.host} without --public-url, and this machine has no LAN address: ` +
        `clients are told ${localCloudUrl}. Pass --public-url with the address other devices use.`;
    } else {
      cloudUrl = `http://${first}:${input.port}`;
      warning =
        `--host ${input.host} without --public-url: upload and file URLs use this machine's LAN address ` +
        `${cloudUrl}. If clients reach it by another name, pass --public-url.`;
    }
  }
  const siteUrl =
    input.publicSiteUrl !== undefined
      ? parseOrigin(input.publicSiteUrl, "--public-site-url")
      : cloudUrl === localCloudUrl
        ? localSiteUrl
        : withPort(cloudUrl, input.sitePort, input.publicUrl !== undefined);
  return { cloudUrl, siteUrl, localCloudUrl, localSiteUrl, warning };
}

/**
 * The site origin next to a public API origin: the same scheme and host on
 * the site port. A proxied public URL without an explicit port (https://api.example.com)
 * has no such sibling, so it needs `--public-site-url`.
 */
function withPort(origin: string, sitePort: number, explicit: boolean): string {
  const url = new URL(origin);
  if (explicit && url.port === "") {
    throw new EngineError(
      "BadArguments",
      `--public-url ${origin} has no port, so the HTTP actions' public URL cannot be derived from it; pass --public-site-url too.`,
    );
  }
  url.port = String(sitePort);
  return url.origin;
}

/** An http(s) origin without path, query or credentials, normalized (no trailing slash). */
function parseOrigin(text: string, flag: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new EngineError("BadArguments", `${flag} must be a URL such as http://192.168.1.20:3210, got "${text}".`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new EngineError("BadArguments", `${flag} must use http or https, got "${text}".`);
  }
  if ((url.pathname !== "/" && url.pathname !== "") || url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== "") {
    throw new EngineError("BadArguments", `${flag} must be an origin (scheme, host, port) without a path, got "${text}".`);
  }
  return url.origin;
}

/** Non-internal IPv4 addresses, in interface order: the ones a phone on the same Wi-Fi can reach. */
function lanAddresses(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>): string[] {
  const out: string[] = [];
  for (const entries of Object.values(interfaces)) {
    for (const entry of entries ?? []) {
      if (entry.family === "IPv4" && !entry.internal) out.push(entry.address);
    }
  }
  return out;
}

function bracketIPv6(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}
