// The example bot (examples/echo-bot, made only of the public API) against the sandbox: `npm start` plays both
// scenes and exits 0, and the bot does what the README's first users got wrong (a late connect after its
// terminate is not answered; an offer WebRTC refuses does not make the endpoint answer 500).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);

describe("examples/echo-bot", () => {
  it("npm start plays both scenes with audio both ways and exits 0, printing no secret", async () => {
    const { stdout } = await run("npm", ["start", "--silent"], { cwd: process.cwd(), timeout: 28_000 });
    expect(stdout).toContain("scene 1: Ana calls the business");
    expect(stdout).toContain("scene 2: the bot asks Ben for permission");
    for (const step of ["pre_accept", "accept", "call_permission_request", "connect", "terminate", "status RINGING", "status ACCEPTED", "call_permission_reply", "call_recording_available"]) {
      expect(stdout).toContain(step);
    }
    const audio = [...stdout.matchAll(/user: connected in \d+ ms, sent (\d+) packets \(\d+ bytes of Opus\), received (\d+) packets/g)];
    expect(audio).toHaveLength(2);
    for (const [, sent, received] of audio) {
      expect(Number(sent)).toBeGreaterThan(20);
      expect(Number(received)).toBeGreaterThan(20);
    }
    // The recording of scene 1 holds every Opus byte of the bot's echo that the user received, in Ogg pages.
    const [, bytes] = /bot {5}recording of \S+: (\d+) bytes of audio\/ogg; codecs=opus, checksum checked/.exec(stdout) ?? [];
    const [, echoed] = /received \d+ packets \((\d+) bytes\) back/.exec(stdout) ?? [];
    expect(Number(bytes)).toBeGreaterThan(Number(echoed));
    expect(Number(bytes)).toBeLessThan(Number(echoed) * 1.2);
    expect(stdout).toMatch(/done: 2 calls, 8 webhooks delivered, every step as expected\n$/);
    expect(stdout).not.toContain("sandbox-access-token");
    expect(stdout).not.toMatch(/ice-pwd|Bearer/i);
  });

  it("ends a call whose terminate came first, and answers 200 to an offer WebRTC refuses", async () => {
    const { stdout } = await run("npx", ["tsx", "--tsconfig", "examples/tsconfig.json", "test/sandbox/echo-bot-checks.mjs"], { cwd: process.cwd(), timeout: 25_000 });
    const results = Object.fromEntries(stdout.trim().split("\n").map((line) => { const { check, result } = JSON.parse(line); return [check, result]; }));
    expect(results["terminate-before-connect"]).toEqual({ steps: [], statuses: ["terminate:200", "connect:200"], logged: true });
    expect(results["refused-offer"]).toEqual({ status: 200, rejected: true, logged: true });
  });
});
