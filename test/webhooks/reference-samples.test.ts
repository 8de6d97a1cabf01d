// Every webhook payload sample of the two reference files (../shared/reference), vendored in
// test/fixtures/reference-samples: signed, posted over HTTP to the handler, answered 200, and parsed into the event
// type the reference says. Where the reference folder is beside the repository (as in CI), the verbatim samples
// must still be its JSON blocks byte for byte, and each cited section must still be there.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../scripts/lib/spec.js";
import { toNodeListener } from "../../src/node.js";
import { signWebhookPayload } from "../../src/testing/index.js";
import { createWebhookHandler, parseWebhook, type WebhookEvent } from "../../src/webhooks/index.js";
import { fixturesDir, listen } from "./helpers.js";

interface Sample {
  file: string;
  source: string;
  section: string;
  verbatim?: number;
  wrap?: "calls";
  expected: string[];
  mirrors: string;
}

const samplesDir = join(fixturesDir, "reference-samples");
const { samples } = JSON.parse(readFileSync(join(samplesDir, "manifest.json"), "utf8")) as { samples: Sample[] };
const referenceDir = join(repoRoot, "..", "shared", "reference");
const APP_SECRET = "reference-samples-app-secret";

/** The bytes posted for a sample: the file itself, or a calls[] item inside the envelope of the recording sample. */
function deliveryBytes(sample: Sample): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(readFileSync(join(samplesDir, sample.file)));
  if (!sample.wrap) return bytes;
  const envelope = JSON.parse(readFileSync(join(samplesDir, "2026.calls.call_recording_available.json"), "utf8"));
  envelope.entry[0].changes[0].value.calls = [JSON.parse(new TextDecoder().decode(bytes))];
  return new TextEncoder().encode(JSON.stringify(envelope));
}

const received: WebhookEvent[] = [];
let url = "";
let close: () => Promise<void>;
beforeAll(async () => {
  const handler = createWebhookHandler({ appSecret: APP_SECRET, verifyToken: "t", dedupe: false, onEvent: (event) => void received.push(event) });
  ({ url, close } = await listen(toNodeListener(handler)));
});
afterAll(() => close());

describe("every webhook sample of the reference files", () => {
  it("covers both files, every verbatim JSON webhook block and each new event", () => {
    expect(new Set(samples.map((sample) => sample.source))).toEqual(new Set(["calling-api.md", "calling-api-2026.md"]));
    expect(samples.filter((sample) => sample.verbatim !== undefined).map((sample) => sample.verbatim)).toEqual([2, 3, 6, 7]);
    const types = new Set(samples.flatMap((sample) => sample.expected));
    for (const type of ["call.recording_available", "call.transcription_available", "call.created", "call.voicemail", "call_permission.reply", "account.update", "account_settings.update"]) {
      expect(types).toContain(type);
    }
  });

  it.each(samples.map((sample) => [sample.file, sample] as const))("%s: signed and posted, answered 200, yields its event", async (_file, sample) => {
    const body = deliveryBytes(sample);
    received.length = 0;
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-hub-signature-256": await signWebhookPayload(body, APP_SECRET) },
      body,
    });
    expect([response.status, await response.text()]).toEqual([200, ""]);
    expect(received.map((event) => event.type)).toEqual(sample.expected);
    // parseWebhook in strict mode agrees: nothing of these samples breaks the schemas.
    expect(parseWebhook(body, { strict: true }).map((event) => event.type)).toEqual(sample.expected);
  });

  it("links the new events to their call and media, and matches contacts by BSUID", () => {
    const parse = (file: string) => parseWebhook(deliveryBytes(samples.find((sample) => sample.file === file)!));
    expect(parse("2026.calls.call_recording_available.json")[0]).toMatchObject({
      type: "call.recording_available",
      callId: "wacid.HBgLMTQxMjYxMzYyNTMVAgASGCBGO...",
      timestamp: 1728932177,
      media: { id: "1002764438271669", sha256: "Y9vvGyeo3n76ptkXu3CwDBsnzbRFqpjHskQdMGSVqas=", mime_type: "audio/ogg; codecs=opus" },
    });
    expect(parse("2026.calls-item.call_transcription_available.json")[0]).toMatchObject({ type: "call.transcription_available", media: { mime_type: "application/json" } });
    const voicemail = parse("2026.messages.voicemail.json")[0]!;
    expect(voicemail).toMatchObject({ type: "call.voicemail", callId: "wacid.HBgLMTQxMjYxMzYyASG...", media: { id: "1002764438271669" } });
    expect(voicemail.type === "call.voicemail" && voicemail.contact?.user_id).toBe("<BSUID>");
    expect(parse("2026.calls.call_created.business-initiated.json")[0]).toMatchObject({ type: "call.created", callId: "wacid.ABGGFjFVU2AfAgo6V-Hc5eCgK5Gh", contact: { wa_id: "16315553602" } });
    const bsuid = parse("ref.calls.connect.bsuid-only.json")[0]!;
    expect(bsuid.type === "call.connect" && bsuid.contact).toEqual({ user_id: "US.13491208655302741918", parent_user_id: "US.ENT.13491208655302741918", profile: { name: "Dana Okafor", username: "dana" } });
    const restriction = parse("2026.account_update.call-button-hidden.array.json")[0]!;
    expect(restriction.type === "account.update" && restriction.data.restriction_info?.[0]).toEqual({
      restriction_type: "RESTRICTED_USER_INITIATED_CALLING_CALL_BUTTON_HIDDEN",
      remediation: "<text>",
    });
  });

  it.skipIf(!existsSync(referenceDir))("is still what ../shared/reference says: verbatim blocks byte for byte, cited sections present", () => {
    const texts = new Map(["calling-api.md", "calling-api-2026.md"].map((name) => [name, readFileSync(join(referenceDir, name), "utf8")]));
    for (const sample of samples) {
      const text = texts.get(sample.source)!;
      expect(text, `${sample.file}: section`).toContain(sample.section);
      if (sample.verbatim === undefined) continue;
      const blocks = [...text.matchAll(/```json\n([\s\S]*?)```/g)].map((match) => match[1]);
      expect(readFileSync(join(samplesDir, sample.file), "utf8"), sample.file).toBe(blocks[sample.verbatim]);
    }
  });
});
