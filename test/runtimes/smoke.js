// The runtime smoke module: plain ES module JavaScript with web-standard APIs only (fetch, Request, Response,
// TextEncoder, crypto.subtle through the package), so that Node, Bun, Deno and workerd all run it unchanged,
// against the packed package installed in a separate project.
//
// It only observes: every check records what the package did (values, statuses, events), and the harness
// (runtimes.test.ts, under Node) asserts them, one vitest test per runtime × check. A check that throws records
// its error instead of a value. It takes everything from its input (the fixtures' text, the loopback recorder's
// URL), so it reads no files and no environment.
import * as main from "whatsapp-calling";
import * as media from "whatsapp-calling/media";
import * as redis from "whatsapp-calling/redis";
import * as testing from "whatsapp-calling/testing";
import * as webhooks from "whatsapp-calling/webhooks";

/**
 * @param {{
 *   graphUrl: string,
 *   fixtures: Record<string, string>,
 *   deliveries: string[],
 *   nodeEntry?: Record<string, unknown>,
 * }} input
 * @returns {Promise<Record<string, { value?: unknown, error?: string }>>}
 */
export async function smoke(input) {
  const { fixtures } = input;
  const json = (file) => JSON.parse(fixtures[file]);
  const encode = (text) => new TextEncoder().encode(text);
  const report = {};
  const check = async (name, observe) => {
    try {
      report[name] = { value: await observe() };
    } catch (error) {
      report[name] = { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
    }
  };

  await check("imports every entry point", () => {
    const namesOf = (module) => Object.keys(module).sort();
    const names = {
      "whatsapp-calling": namesOf(main),
      "whatsapp-calling/webhooks": namesOf(webhooks),
      "whatsapp-calling/media": namesOf(media),
      "whatsapp-calling/testing": namesOf(testing),
      "whatsapp-calling/redis": namesOf(redis),
    };
    if (input.nodeEntry) names["whatsapp-calling/node"] = namesOf(input.nodeEntry);
    return names;
  });

  const signatures = json("webhooks/signature.cases.json");
  const secret = signatures.app_secret;
  await check("verifySignature: signed verifies, wrong does not", async () => {
    // Meta's own signatures over the fixtures' exact bytes; a case with a body_transform appends one 0x20 byte.
    const cases = [];
    for (const { body_file, body_transform, x_hub_signature_256 } of signatures.cases) {
      const bytes = encode(fixtures[body_file]);
      const body = body_transform ? new Uint8Array([...bytes, 0x20]) : bytes;
      cases.push(await webhooks.verifySignature(body, x_hub_signature_256, secret));
    }
    const body = fixtures["webhooks/calls.status.ringing.json"];
    const header = await testing.signWebhookPayload(body, secret);
    return {
      cases,
      header,
      signed: await webhooks.verifySignature(body, header, secret),
      rotated: await webhooks.verifySignature(body, header, ["previous-secret", secret]),
      wrongSecret: await webhooks.verifySignature(body, header, "another-secret"),
      tampered: await webhooks.verifySignature(`${body} `, header, secret),
      missing: await webhooks.verifySignature(body, null, secret),
    };
  });

  for (const file of input.deliveries) {
    await check(`parseWebhook: ${file.replace(/^webhooks\//, "")}`, () => webhooks.parseWebhook(encode(fixtures[file])));
  }

  const verification = json("webhooks/verification.get.json");
  const endpoint = "https://example.test/webhooks/whatsapp";
  /** A handler whose dispatched events are recorded as `type callId`. */
  const handlerWith = (options = {}) => {
    const dispatched = [];
    const handler = webhooks.createWebhookHandler({
      appSecret: secret,
      verifyToken: verification.configured_verify_token,
      onEvent: (event) => void dispatched.push(`${event.type} ${event.callId ?? ""}`.trim()),
      ...options,
    });
    return { handler, dispatched };
  };
  const answerOf = async (response) => ({
    status: response.status,
    contentType: response.headers.get("content-type"),
    body: await response.text(),
  });
  const connectCase = signatures.cases.find((entry) => entry.expected_valid && entry.body_file === "webhooks/calls.connect.user-initiated.json");
  const post = (body, signature) =>
    new Request(endpoint, {
      method: "POST",
      headers: { "content-type": "application/json", ...(signature ? { "x-hub-signature-256": signature } : {}) },
      body,
    });

  await check("handler: handshake", async () => {
    const { handler } = handlerWith();
    const url = (query) => `${endpoint}?${new URLSearchParams(query)}`;
    return {
      right: await answerOf(await handler(new Request(url(verification.request.query)))),
      wrongToken: (await handler(new Request(url(verification.mismatch_case.query)))).status,
    };
  });

  await check("handler: signed delivery", async () => {
    const { handler, dispatched } = handlerWith();
    const answer = await answerOf(await handler(post(encode(fixtures[connectCase.body_file]), connectCase.x_hub_signature_256)));
    return { status: answer.status, dispatched };
  });

  await check("handler: forged delivery", async () => {
    const { handler, dispatched } = handlerWith();
    const bytes = encode(fixtures[connectCase.body_file]);
    const forged = new Uint8Array([...bytes, 0x20]);
    return {
      tampered: (await handler(post(forged, connectCase.x_hub_signature_256))).status,
      otherSecret: (await handler(post(bytes, await testing.signWebhookPayload(bytes, "not-the-app-secret")))).status,
      unsigned: (await handler(post(bytes))).status,
      dispatched,
    };
  });

  await check("handler: oversized delivery", async () => {
    const bytes = encode(fixtures[connectCase.body_file]);
    const { handler, dispatched } = handlerWith({ maxBodyBytes: bytes.length - 1 });
    // Correctly signed, one byte over the limit: refused for its size, not its signature.
    return { bodyBytes: bytes.length, status: (await handler(post(bytes, connectCase.x_hub_signature_256))).status, dispatched };
  });

  const calls = main.createCallingClient({
    phoneNumberId: "117823401562387",
    accessToken: "EAAG-runtime-smoke-token",
    baseUrl: input.graphUrl,
    retry: false,
  });
  const request = (action) => json(`api/calls.${action}.request.json`);
  const actions = {
    connect: async () => {
      const { to, session, biz_opaque_callback_data } = request("connect");
      return calls.connect(to, session.sdp, { bizOpaqueCallbackData: biz_opaque_callback_data });
    },
    pre_accept: () => calls.preAccept(request("pre_accept").call_id, request("pre_accept").session.sdp),
    accept: async () => {
      const { call_id, session, biz_opaque_callback_data } = request("accept");
      return calls.accept(call_id, session.sdp, { bizOpaqueCallbackData: biz_opaque_callback_data });
    },
    reject: () => calls.reject(request("reject").call_id),
    terminate: () => calls.terminate(request("terminate").call_id),
  };
  for (const [action, send] of Object.entries(actions)) await check(`client: ${action}`, send);

  return report;
}
