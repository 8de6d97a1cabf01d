// Issue 10 §2, the request side: recording and transcription on connect, accept and answer, checked before
// sending by the validators generated from openapi.yaml, and `to` on pre_accept/accept only when asked for.
// Exact request bodies, against a Graph stand-in on 127.0.0.1.
import { describe, expect, it } from "vitest";
import { createCallingClient, DEFAULT_API_VERSION, WhatsAppValidationError, type CallingClient } from "../../src/index.js";
import { useGraphServer } from "../helpers/graph-server.js";

const PHONE_NUMBER_ID = "117823401562387";
const CALL_ID = "wacid.ABGGFjFVU2AfAgo6V";
const OFFER = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=setup:actpass\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";
const ANSWER = "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=setup:active\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";
// Meta's sample values ("Call recording", Updated May 31, 2026).
const recording = { status: "ENABLED", purpose: "quality assurance", announcement_language: "en_US" } as const;
const transcription = { status: "ENABLED", purpose: "call summaries", announcement_language: "es" } as const;

const server = useGraphServer((request) =>
  (request.json as { action?: string }).action === "connect"
    ? { status: 200, body: { messaging_product: "whatsapp", calls: [{ id: CALL_ID }] } }
    : { status: 200, body: { messaging_product: "whatsapp", success: true } },
);
const client = () => createCallingClient({ phoneNumberId: PHONE_NUMBER_ID, accessToken: "EAAG-recording", baseUrl: server.url, retry: false });

function sentBodies() {
  for (const request of server.requests) {
    expect(request.method).toBe("POST");
    expect(request.url).toBe(`/${DEFAULT_API_VERSION}/${PHONE_NUMBER_ID}/calls`);
    expect(request.headers["content-type"]).toBe("application/json");
  }
  return server.requests.map((request) => request.json);
}

describe("recording and transcription", () => {
  it("connect sends both objects as given", async () => {
    await client().connect({ to: "14085551234", recipient: "US.13491208655302741918" }, OFFER, { recording, transcription });
    expect(sentBodies()).toEqual([
      {
        messaging_product: "whatsapp",
        to: "14085551234",
        recipient: "US.13491208655302741918",
        action: "connect",
        session: { sdp_type: "offer", sdp: OFFER },
        recording,
        transcription,
      },
    ]);
  });

  it("accept sends recording (Meta's accept sample, to the byte of its JSON)", async () => {
    await client().accept(CALL_ID, ANSWER, { recording });
    expect(sentBodies()).toEqual([
      { messaging_product: "whatsapp", call_id: CALL_ID, action: "accept", session: { sdp_type: "answer", sdp: ANSWER }, recording },
    ]);
    expect(server.requests[0]!.rawBody).toContain('"recording":{"status":"ENABLED","purpose":"quality assurance","announcement_language":"en_US"}');
  });

  it("an explicit opt-out needs no purpose or language", async () => {
    await client().accept(CALL_ID, ANSWER, { recording: { status: "DISABLED" }, transcription: { status: "DISABLED" } });
    expect(sentBodies()[0]).toMatchObject({ recording: { status: "DISABLED" }, transcription: { status: "DISABLED" } });
  });

  it("answer() sends them with accept only; pre_accept carries neither", async () => {
    await client().answer(CALL_ID, ANSWER, { recording, transcription, bizOpaqueCallbackData: "agent-7" });
    expect(sentBodies()).toEqual([
      { messaging_product: "whatsapp", call_id: CALL_ID, action: "pre_accept", session: { sdp_type: "answer", sdp: ANSWER } },
      {
        messaging_product: "whatsapp",
        call_id: CALL_ID,
        action: "accept",
        session: { sdp_type: "answer", sdp: ANSWER },
        biz_opaque_callback_data: "agent-7",
        recording,
        transcription,
      },
    ]);
  });

  it.each([
    ["accept, recording without purpose", (c: CallingClient) => c.accept(CALL_ID, ANSWER, { recording: { status: "ENABLED", announcement_language: "en" } as never }), "Invalid accept request: recording must have required property 'purpose'", "/recording"],
    ["accept, recording without language", (c: CallingClient) => c.accept(CALL_ID, ANSWER, { recording: { status: "ENABLED", purpose: "qa" } as never }), "Invalid accept request: recording must have required property 'announcement_language'", "/recording"],
    ["connect, transcription without purpose", (c: CallingClient) => c.connect("15550123456", OFFER, { transcription: { status: "ENABLED" } as never }), "Invalid connect request: transcription must have required property 'purpose'", "/transcription"],
    ["a purpose over 250 characters", (c: CallingClient) => c.accept(CALL_ID, ANSWER, { recording: { ...recording, purpose: "p".repeat(251) } }), "Invalid accept request: recording.purpose must NOT have more than 250 characters", "/recording/purpose"],
    ["an empty purpose", (c: CallingClient) => c.connect("15550123456", OFFER, { recording: { ...recording, purpose: "" } }), "Invalid connect request: recording.purpose must NOT have fewer than 1 characters", "/recording/purpose"],
    ["a language Meta does not announce in", (c: CallingClient) => c.accept(CALL_ID, ANSWER, { transcription: { ...transcription, announcement_language: "xx" as "en" } }), "Invalid accept request: transcription.announcement_language must be equal to one of the allowed values", "/transcription/announcement_language"],
    ["a status that does not exist", (c: CallingClient) => c.accept(CALL_ID, ANSWER, { recording: { ...recording, status: "ON" as "ENABLED" } }), "Invalid accept request: recording.status must be equal to one of the allowed values", "/recording/status"],
    ["answer(): checked before pre_accept", (c: CallingClient) => c.answer(CALL_ID, ANSWER, { recording: { status: "ENABLED" } as never }), "Invalid accept request: recording must have required property 'purpose'", "/recording"],
  ])("%s is refused before anything is sent", async (_name, call, message, path) => {
    const error = (await call(client()).catch((e: unknown) => e)) as WhatsAppValidationError;
    expect(error).toBeInstanceOf(WhatsAppValidationError);
    expect([error.message, error.path]).toEqual([message, path]);
    expect(server.requests).toEqual([]);
  });
});

describe("`to` on pre_accept and accept: not sent unless asked for", () => {
  it("is left out by default", async () => {
    await client().preAccept(CALL_ID, ANSWER);
    await client().accept(CALL_ID, ANSWER);
    for (const body of sentBodies()) expect(Object.keys(body as object)).not.toContain("to");
  });

  it("the `to` option sends it on pre_accept, accept, and both requests of answer()", async () => {
    await client().preAccept(CALL_ID, ANSWER, { to: "14085550000" });
    await client().accept(CALL_ID, ANSWER, { to: "14085550000" });
    await client().answer(CALL_ID, ANSWER, { to: "14085550000" });
    expect(sentBodies()).toEqual([
      { messaging_product: "whatsapp", call_id: CALL_ID, action: "pre_accept", to: "14085550000", session: { sdp_type: "answer", sdp: ANSWER } },
      { messaging_product: "whatsapp", call_id: CALL_ID, action: "accept", to: "14085550000", session: { sdp_type: "answer", sdp: ANSWER } },
      { messaging_product: "whatsapp", call_id: CALL_ID, action: "pre_accept", to: "14085550000", session: { sdp_type: "answer", sdp: ANSWER } },
      { messaging_product: "whatsapp", call_id: CALL_ID, action: "accept", to: "14085550000", session: { sdp_type: "answer", sdp: ANSWER } },
    ]);
  });

  it("a `to` that is no phone number is refused before sending", async () => {
    const error = (await client().preAccept(CALL_ID, ANSWER, { to: "caller" }).catch((e: unknown) => e)) as WhatsAppValidationError;
    expect(error).toBeInstanceOf(WhatsAppValidationError);
    expect(error.path).toBe("/to");
    expect(server.requests).toEqual([]);
  });
});
