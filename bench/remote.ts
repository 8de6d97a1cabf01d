// The parent's side of bench/server.ts: forks it, waits for its ports, and asks it over IPC for its CPU time.
import { fork } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "./package.js";

export interface CpuServer {
  ports: Record<string, number>;
  /**
   * "cpu": the server's process.cpuUsage(), user + system µs; "reset": the same after making a fresh handler;
   * "profile-start" / "profile-stop": the V8 CPU profiler of the server, written to the file given to startServer.
   */
  ask: (type: "cpu" | "reset" | "profile-start" | "profile-stop") => Promise<number>;
  close: () => void;
}

/** `nodeOptions` go before the script; `profileFile` is where the server writes its CPU profile. */
export async function startServer(nodeOptions: string[] = [], profileFile?: string): Promise<CpuServer> {
  const child = fork(join(import.meta.dirname, "server.ts"), profileFile ? [profileFile] : [], {
    execArgv: ["--import", "tsx", ...nodeOptions],
    cwd: repoRoot,
  });
  const pending = new Map<number, (cpu: number) => void>();
  let nextId = 0;
  const ports = await new Promise<Record<string, number>>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`bench server exited with ${code}`)));
    child.on("message", (message: { ready?: Record<string, number>; id?: number; cpu?: number }) => {
      if (message.ready) return resolve(message.ready);
      pending.get(message.id!)?.(message.cpu!);
      pending.delete(message.id!);
    });
  });
  return {
    ports,
    ask: (type) =>
      new Promise((resolve) => {
        const id = nextId++;
        pending.set(id, resolve);
        child.send({ id, type });
      }),
    close: () => child.disconnect(),
  };
}
