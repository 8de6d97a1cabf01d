// The client figures: terminate() against the loopback Graph stand-in of bench/server.ts, sequential and 50 in
// flight, over the floor `fetch(url, init)` + JSON of the answer; and the client's own work per call with a stub
// fetch (no network), as CPU µs over the same floor on the same stub.
//
// Each contender makes its nearest equivalent of a `terminate` calls action:
// - whatsapp-calling: `calls.terminate(callId)` (createCallingClient with baseUrl; default deadline and retries);
// - whatsapp-api-js: `terminateCall(phoneId, callId)`; it has no base URL option and posts to the hard-coded
//   `https://graph.facebook.com/{phone}/calls` (no version in the path), so its `ponyfill.fetch` is given a
//   fetch that swaps that origin for the loopback one (one string replace per call);
// - Kapso: `client.calls.terminate({ phoneNumberId, callId })` (WhatsAppClient with baseUrl and fetch options).
import { microsecondsFigure, plan, ratioFigure, type Figure, type Settings } from "./figure.js";
import { CALL_ID, PHONE_NUMBER_ID } from "./fixtures.js";
import { importFromPackage } from "./package.js";
import { cpuSamples, inFlight, runRounds, sequentialCpu, type Contender } from "./rounds.js";

type Calling = typeof import("../src/index.js");
type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

const TOKEN = "bench-token";
const GRAPH_ORIGIN = "https://graph.facebook.com";
const ANSWER = '{"success":true}';

/** The four ways of sending one terminate, each over the given fetch. */
export async function terminators(baseUrl: string, fetchImpl: Fetch): Promise<Record<string, () => Promise<unknown>>> {
  const { createCallingClient, DEFAULT_API_VERSION } = await importFromPackage<Calling>("whatsapp-calling");
  const { WhatsAppAPI } = await importFromPackage("whatsapp-api-js");
  const { WhatsAppClient } = await importFromPackage("@kapso/whatsapp-cloud-api");

  const url = `${baseUrl}/${DEFAULT_API_VERSION}/${PHONE_NUMBER_ID}/calls`;
  const body = JSON.stringify({ messaging_product: "whatsapp", call_id: CALL_ID, action: "terminate" });
  const floor = async () => {
    const response = await fetchImpl(url, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body,
    });
    if (!response.ok) throw new Error(`floor: HTTP ${response.status}`);
    return response.json();
  };

  // Today's option takes a Request; the issue asks for `(input, init)`. A stub that takes both serves either.
  const calls = createCallingClient({ phoneNumberId: PHONE_NUMBER_ID, accessToken: TOKEN, baseUrl, fetch: fetchImpl as never });
  const waapi = new WhatsAppAPI({
    token: TOKEN,
    secure: false,
    v: DEFAULT_API_VERSION,
    ponyfill: { fetch: (target: string, init: RequestInit) => fetchImpl(target.replace(GRAPH_ORIGIN, baseUrl), init) },
  });
  const kapso = new WhatsAppClient({ accessToken: TOKEN, baseUrl, graphVersion: DEFAULT_API_VERSION, fetch: fetchImpl });
  return {
    floor,
    "whatsapp-calling": () => calls.terminate(CALL_ID),
    "whatsapp-api-js": () => waapi.terminateCall(PHONE_NUMBER_ID, CALL_ID),
    kapso: () => kapso.calls.terminate({ phoneNumberId: PHONE_NUMBER_ID, callId: CALL_ID }),
  };
}

/** A fetch that answers at once without a network: what is left is the caller's own work. */
export const stubFetch: Fetch = async () => new Response(ANSWER, { status: 200, headers: { "content-type": "application/json" } });

export async function clientFigures(graphBaseUrl: string, settings: Settings, log: (line: string) => void): Promise<Figure[]> {
  const overLoopback = await terminators(graphBaseUrl, (input, init) => fetch(input, init));
  const overStub = await terminators("http://127.0.0.1:9", stubFetch);
  for (const [name, send] of Object.entries(overLoopback)) {
    const answer = await send();
    if (JSON.stringify(answer) !== ANSWER) throw new Error(`${name}: unexpected answer ${JSON.stringify(answer)}`);
  }
  type Batch = (count: number, send: () => Promise<unknown>) => ReturnType<Contender["measure"]>;
  const contenders = (batch: Batch, senders: Record<string, () => Promise<unknown>>): Contender[] =>
    Object.entries(senders).map(([name, send]) => ({ name, measure: (count) => batch(count, send) }));

  const loopback = plan(settings, 3_000, 60);
  log(`terminate() × ${loopback.count}, sequential`);
  const sequentialSamples = await runRounds(contenders((count, send) => inFlight(count, 1, send), overLoopback), loopback);
  log(`terminate() × ${loopback.count}, 50 in flight`);
  const concurrentSamples = await runRounds(contenders((count, send) => inFlight(count, 50, send), overLoopback), loopback);
  const stub = plan(settings, 5_000, 200);
  log(`terminate() × ${stub.count} over a stub fetch`);
  const stubSamples = await runRounds(contenders((count, send) => sequentialCpu(count, send), overStub), stub);
  return [
    ratioFigure(
      "terminate-sequential",
      `terminate() × ${loopback.count.toLocaleString("en-US")} sequential, wall / hand-written fetch(url, init) on loopback`,
      sequentialSamples,
      1.1,
    ),
    ratioFigure(
      "terminate-sequential-cpu",
      "(the same, client process CPU per call / the floor's: steadier than wall time on a shared machine)",
      cpuSamples(sequentialSamples),
    ),
    ratioFigure("terminate-concurrent", "the same at concurrency 50", concurrentSamples, 1.1),
    ratioFigure("terminate-concurrent-cpu", "(the same, client process CPU per call / the floor's)", cpuSamples(concurrentSamples)),
    microsecondsFigure(
      "client-own-work",
      "the client's own work per call (a stub fetch, no network), CPU µs over fetch(url, init) + JSON on the same stub",
      stubSamples,
      10,
    ),
  ];
}
