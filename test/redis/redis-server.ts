// A real redis-server for the tests: REDIS_URL when set (CI's set-up exports it), otherwise one started here on
// 127.0.0.1 with a free port, no persistence. It must start: a test that needs Redis fails without it, never skips.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";

export interface RedisServer {
  url: string;
  port: number;
  /** Stops a server started here (SIGKILL: Redis "going away"). Not available for REDIS_URL. */
  kill?: () => Promise<void>;
  close: () => Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts a private redis-server (always: for the tests that stop it). */
export async function startRedisServer(): Promise<RedisServer & { kill: () => Promise<void> }> {
  const binary = process.env["REDIS_SERVER_BIN"] ?? "redis-server";
  const port = await freePort();
  const child: ChildProcess = spawn(binary, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start within 10 s:\n${output}`)), 10_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`redis-server could not be started (${binary}): ${error.message}. Install it (Debian: apt-get install redis-server) or set REDIS_URL.`));
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code} before it was ready:\n${output}`));
    });
  });
  const stop = (signal: NodeJS.Signals) =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill(signal);
    });
  return { url: `redis://127.0.0.1:${port}`, port, kill: () => stop("SIGKILL"), close: () => stop("SIGTERM") };
}

/** REDIS_URL when set, otherwise a private server. */
export async function redisForTests(): Promise<RedisServer> {
  const url = process.env["REDIS_URL"];
  if (url) return { url, port: Number(new URL(url).port || 6379), close: async () => {} };
  return startRedisServer();
}
