// Every test stays on loopback (a setup file of vitest.config.ts): a test after which this process has looked up
// a name other than localhost, opened a TCP connection or sent a UDP datagram to another address fails and names
// it. It covers what runs in the test's own process (the client, the sandbox, werift peers); child processes and
// Chromium are each checked by their own tests. test/sandbox/loopback.test.ts shows why: werift asks a public STUN
// server unless it is given one.
import dgram from "node:dgram";
import dns from "node:dns";
import net from "node:net";
import { afterEach } from "vitest";

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);
const away: string[] = [];
const note = (what: string, host: unknown) => {
  if (typeof host !== "string" || LOOPBACK.has(host)) return;
  // A lookup of an IP literal resolves nothing; the connection or datagram to it is what would leave.
  if (what === "lookup" && net.isIP(host) !== 0) return;
  away.push(`${what} ${host}`);
};

const lookup = dns.lookup;
dns.lookup = ((hostname: string, ...rest: unknown[]) => {
  note("lookup", hostname);
  return (lookup as (...args: unknown[]) => unknown)(hostname, ...rest);
}) as typeof dns.lookup;
const promisesLookup = dns.promises.lookup;
dns.promises.lookup = ((hostname: string, ...rest: unknown[]) => {
  note("lookup", hostname);
  return (promisesLookup as (...args: unknown[]) => unknown)(hostname, ...rest);
}) as typeof dns.promises.lookup;
const send = dgram.Socket.prototype.send;
dgram.Socket.prototype.send = function (this: dgram.Socket, ...args: unknown[]) {
  // send(msg, [offset, length,] port, address?, callback?): the address is the one string argument.
  note("UDP to", args.slice(1).find((arg) => typeof arg === "string"));
  return (send as (...a: unknown[]) => unknown).apply(this, args);
} as typeof dgram.Socket.prototype.send;
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
  note("TCP to", connectHost(args[0], args[1]));
  return (connect as (...a: unknown[]) => unknown).apply(this, args);
} as typeof net.Socket.prototype.connect;

/** The host of connect(options), connect(port, host?) or connect(path); undefined for a local socket's path. */
function connectHost(first: unknown, second: unknown): unknown {
  // net.connect() hands its arguments on normalized, as one array [options, callback].
  if (Array.isArray(first)) return connectHost(first[0], undefined);
  if (typeof first === "number" || typeof first === "string") return typeof first === "number" ? (typeof second === "string" ? second : "localhost") : undefined;
  if (typeof first !== "object" || first === null) return undefined;
  const options = first as { host?: unknown; path?: unknown };
  return options.path === undefined ? (options.host ?? "localhost") : undefined;
}

/** What the current test did so far that left loopback (each "lookup NAME", "TCP to HOST" or "UDP to HOST"). */
export function leftLoopback(): readonly string[] {
  return [...new Set(away)];
}

afterEach(() => {
  if (away.length === 0) return;
  const seen = [...new Set(away.splice(0))];
  throw new Error(`this test left loopback (tests use 127.0.0.1 only): ${seen.join(", ")}`);
});
