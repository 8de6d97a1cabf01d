import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DEFAULT_API_VERSION, WhatsAppApiError, WhatsAppError, WhatsAppTimeoutError, WhatsAppValidationError } from "../../src/index.js";
import {
  DEFAULT_MEDIA_MAX_BYTES,
  WhatsAppChecksumError,
  WhatsAppMediaExpiredError,
  WhatsAppMediaTooLargeError,
  deleteMedia,
  downloadMedia,
  downloadMediaBytes,
  getMediaUrl,
} from "../../src/media/index.js";
import { PHONE_NUMBER_ID, TOKEN, mediaClient, useMediaServer, type MediaReply, type RecordedMediaRequest } from "./helpers.js";

const server = useMediaServer();
const client = (options?: Parameters<typeof mediaClient>[1]) => mediaClient(server, options);
const MEDIA_ID = "1002764438271669";
const RECORDING = Buffer.from("OggS…a call recording, as bytes…\x00\x01\x02\xff");
const SHA256_BASE64 = createHash("sha256").update(RECORDING).digest("base64");
const SHA256_HEX = createHash("sha256").update(RECORDING).digest("hex");
const VERSION = `/${DEFAULT_API_VERSION}`;
const ATTACHMENT_PATH = "/whatsapp_business/attachments/";

/** A signed-looking media URL on the test server; `n` tells the URLs apart. */
const mediaUrl = (n: number) => `${server.url}${ATTACHMENT_PATH}?mid=${MEDIA_ID}&ext=${n}&hash=ATsig${n}`;

/** The Graph answer of GET /{media-id}, pointing at URL `n`. */
const mediaUrlAnswer = (n: number, extra: Record<string, unknown> = {}): MediaReply => ({
  body: {
    messaging_product: "whatsapp",
    url: mediaUrl(n),
    mime_type: "audio/ogg; codecs=opus",
    sha256: SHA256_HEX,
    file_size: String(RECORDING.length),
    id: MEDIA_ID,
    ...extra,
  },
});

const recordingAnswer: MediaReply = { headers: { "content-type": "audio/ogg; codecs=opus" }, body: RECORDING };
const notFound: MediaReply = { status: 404, body: "URL signature expired" };

/** Routes: Graph's GET /{media-id} to `graph`, downloads to `download` with the URL's `ext` number. */
function route(graph: (request: RecordedMediaRequest) => MediaReply, download: (n: number) => MediaReply) {
  let graphCalls = 0;
  server.setHandler((request) => {
    if (request.path === ATTACHMENT_PATH) return download(Number(request.query.get("ext")));
    graphCalls += 1;
    return graph(request);
  });
  return { graphCalls: () => graphCalls };
}

function expectDownloadRequest(request: RecordedMediaRequest, n: number) {
  expect(request.method).toBe("GET");
  expect(request.url).toBe(`${ATTACHMENT_PATH}?mid=${MEDIA_ID}&ext=${n}&hash=ATsig${n}`);
  expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
}

function expectGraphMediaRequest(request: RecordedMediaRequest, query = "") {
  expect(request.method).toBe("GET");
  expect(request.url).toBe(`${VERSION}/${MEDIA_ID}${query}`);
  expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  for (let next = await reader.read(); !next.done; next = await reader.read()) chunks.push(next.value);
  return Buffer.concat(chunks);
}

describe("getMediaUrl and deleteMedia", () => {
  it("GET /{version}/{media-id} with the token, phone_number_id when asked", async () => {
    server.setHandler(() => mediaUrlAnswer(1));
    const calls = client();
    expect(await getMediaUrl(calls, MEDIA_ID)).toEqual(mediaUrlAnswer(1).body);
    await getMediaUrl(calls, MEDIA_ID, { phoneNumberId: PHONE_NUMBER_ID });
    expect(server.requests).toHaveLength(2);
    expectGraphMediaRequest(server.requests[0]!);
    expectGraphMediaRequest(server.requests[1]!, `?phone_number_id=${PHONE_NUMBER_ID}`);
  });

  it("DELETE /{version}/{media-id}", async () => {
    server.setHandler(() => ({ body: { success: true } }));
    expect(await deleteMedia(client(), MEDIA_ID)).toEqual({ success: true });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.method).toBe("DELETE");
    expect(server.requests[0]!.url).toBe(`${VERSION}/${MEDIA_ID}`);
    expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it("a Graph error is a WhatsAppApiError without the token, even when Meta quotes it", async () => {
    server.setHandler(() => ({
      status: 400,
      body: { error: { message: `Invalid media id for token ${TOKEN}`, type: "OAuthException", code: 100, fbtrace_id: "Atrace" } },
    }));
    const error = await rejection(deleteMedia(client(), MEDIA_ID));
    expect(error).toBeInstanceOf(WhatsAppApiError);
    expect(error).toMatchObject({ status: 400, code: 100, action: "deleteMedia", fbtraceId: "Atrace" });
    expect(JSON.stringify(error)).not.toContain(TOKEN);
    expect((error as Error).message).not.toContain(TOKEN);
    expect((error as Error).message).toContain("[redacted]");
  });

  it.each([
    [-1, "mediaId must be a media id (a string of digits, e.g. the id of a webhook's media object), not a URL or a message id"],
    [1.5, "mediaId must be a media id (a string of digits, e.g. the id of a webhook's media object), not a URL or a message id"],
    [2 ** 53 + 2, "mediaId is a number too large to be exact (its digits were lost when the JSON was parsed); pass the id as a string"],
  ])("refuses the number %d as a media id, saying why, before sending", async (id, message) => {
    expect(await rejection(getMediaUrl(client(), id))).toMatchObject({ name: "WhatsAppValidationError", path: "mediaId", message });
    expect(server.requests).toHaveLength(0);
  });

  it("gives the bytes over an ArrayBuffer, so that they are a BlobPart", async () => {
    route(() => mediaUrlAnswer(1), () => recordingAnswer);
    const bytes: Uint8Array<ArrayBuffer> = await downloadMediaBytes(client(), MEDIA_ID);
    expect(bytes.buffer).toBeInstanceOf(ArrayBuffer);
    expect(Buffer.from(await new Blob([bytes]).arrayBuffer())).toEqual(RECORDING);
  });

  it.each(["https://lookaside.fbsbx.com/x", "wamid.ABC", "", "12/34"])("refuses %j as a media id before sending", async (id) => {
    await expect(getMediaUrl(client(), id)).rejects.toBeInstanceOf(WhatsAppValidationError);
    await expect(deleteMedia(client(), id)).rejects.toBeInstanceOf(WhatsAppValidationError);
    expect(server.requests).toHaveLength(0);
  });

  it("takes only a client made by createCallingClient (a copy of one has no request path), before sending", async () => {
    const copy = { ...client() };
    for (const calls of [copy, {}, null, undefined]) {
      const error = await rejection(getMediaUrl(calls as never, MEDIA_ID));
      expect(error).toBeInstanceOf(WhatsAppValidationError);
      expect(error).toMatchObject({ message: "calls must be a client made by createCallingClient", path: "calls" });
      await expect(downloadMediaBytes(calls as never, MEDIA_ID)).rejects.toBeInstanceOf(WhatsAppValidationError);
    }
    expect(server.requests).toHaveLength(0);
    // The context is not an enumerable or named part of the client.
    expect(Object.keys(client()).filter((key) => /context|transport/i.test(key))).toEqual([]);
  });
});

describe("downloadMedia", () => {
  it("by id: asks Graph for the URL, downloads it with the token, checks the Media API's hex sha256", async () => {
    route(() => mediaUrlAnswer(1), () => recordingAnswer);
    const download = await downloadMedia(client(), MEDIA_ID);
    expect(download).toMatchObject({ mimeType: "audio/ogg; codecs=opus", size: RECORDING.length, mediaId: MEDIA_ID, verified: true });
    expect(Buffer.from(await download.bytes())).toEqual(RECORDING);
    expect(server.requests).toHaveLength(2);
    expectGraphMediaRequest(server.requests[0]!);
    expectDownloadRequest(server.requests[1]!, 1);
  });

  it("from a webhook's media object: uses its url and Base64 sha256, no Graph call", async () => {
    route(() => mediaUrlAnswer(9), () => recordingAnswer);
    const audio = { id: MEDIA_ID, sha256: SHA256_BASE64, mime_type: "audio/ogg; codecs=opus", url: mediaUrl(1) };
    const download = await downloadMedia(client(), audio);
    expect(download.verified).toBe(true);
    expect(await readAll(download.body)).toEqual(RECORDING);
    expect(server.requests).toHaveLength(1);
    expectDownloadRequest(server.requests[0]!, 1);
  });

  it("a webhook id that came as a JSON number is taken as its digits (an expired URL is refreshed by it)", async () => {
    route(() => mediaUrlAnswer(2), (n) => (n === 1 ? notFound : recordingAnswer));
    const download = await downloadMedia(client(), { id: Number(MEDIA_ID), url: mediaUrl(1), sha256: SHA256_BASE64 });
    expect(download.mediaId).toBe(MEDIA_ID);
    expect(Buffer.from(await download.bytes())).toEqual(RECORDING);
    expectGraphMediaRequest(server.requests[1]!);
  });

  it("a bare numeric id (a webhook's `media.id` as typed) downloads by id too; one past 2^53 is refused", async () => {
    route(() => mediaUrlAnswer(1), () => recordingAnswer);
    expect(Buffer.from(await downloadMediaBytes(client(), Number(MEDIA_ID)))).toEqual(RECORDING);
    expectGraphMediaRequest(server.requests[0]!);
    expectDownloadRequest(server.requests[1]!, 1);
    const error = await rejection(downloadMedia(client(), 2 ** 53 + 2));
    expect(error).toBeInstanceOf(WhatsAppValidationError);
    expect((error as WhatsAppValidationError).path).toBe("source");
    expect(server.requests).toHaveLength(2);
  });

  it("a numeric id past 2^53 (digits lost in JSON.parse) is refused before sending", async () => {
    const error = await downloadMedia(client(), { id: 2 ** 53 + 2, url: mediaUrl(1) }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WhatsAppValidationError);
    expect((error as WhatsAppValidationError).path).toBe("source.id");
    expect(server.requests).toHaveLength(0);
  });

  it("downloadMediaBytes collects the stream", async () => {
    route(() => mediaUrlAnswer(1), () => recordingAnswer);
    expect(Buffer.from(await downloadMediaBytes(client(), { url: mediaUrl(1), sha256: SHA256_BASE64 }))).toEqual(RECORDING);
  });

  it("a checksum mismatch ends the stream with WhatsAppChecksumError", async () => {
    route(() => mediaUrlAnswer(1), () => ({ body: Buffer.concat([RECORDING, Buffer.from("!")]) }));
    const download = await downloadMedia(client(), { id: MEDIA_ID, url: mediaUrl(1), sha256: SHA256_BASE64 });
    const error = await rejection(download.bytes());
    expect(error).toBeInstanceOf(WhatsAppChecksumError);
    expect(error).toBeInstanceOf(WhatsAppError);
    const tampered = createHash("sha256").update(Buffer.concat([RECORDING, Buffer.from("!")])).digest("base64");
    expect(error).toMatchObject({ expected: SHA256_BASE64, actual: tampered, mediaId: MEDIA_ID, size: RECORDING.length + 1 });
  });

  it("a checksum mismatch against the Media API's hex digest is reported in hex", async () => {
    route(() => mediaUrlAnswer(1, { sha256: "00".repeat(32) }), () => recordingAnswer);
    const error = await rejection(downloadMediaBytes(client(), MEDIA_ID));
    expect(error).toBeInstanceOf(WhatsAppChecksumError);
    expect(error).toMatchObject({ expected: "00".repeat(32), actual: SHA256_HEX });
  });

  it("an explicit sha256 option wins over the source's", async () => {
    route(() => mediaUrlAnswer(1), () => recordingAnswer);
    const error = await rejection(
      downloadMediaBytes(client(), { url: mediaUrl(1), sha256: SHA256_BASE64 }, { sha256: "11".repeat(32) }),
    );
    expect(error).toMatchObject({ name: "WhatsAppChecksumError", expected: "11".repeat(32) });
  });

  it("refuses a sha256 that is not a SHA-256 digest, before sending", async () => {
    await expect(downloadMedia(client(), { url: mediaUrl(1), sha256: "not-a-digest" })).rejects.toBeInstanceOf(
      WhatsAppValidationError,
    );
    expect(server.requests).toHaveLength(0);
  });

  it("an expired webhook URL (404): one fresh URL by media id, then the bytes", async () => {
    const graph = route(() => mediaUrlAnswer(2), (n) => (n === 1 ? notFound : recordingAnswer));
    const download = await downloadMedia(client(), { id: MEDIA_ID, url: mediaUrl(1), sha256: SHA256_BASE64 });
    expect(Buffer.from(await download.bytes())).toEqual(RECORDING);
    expect(graph.graphCalls()).toBe(1);
    expect(server.requests).toHaveLength(3);
    expectDownloadRequest(server.requests[0]!, 1);
    expectGraphMediaRequest(server.requests[1]!);
    expectDownloadRequest(server.requests[2]!, 2);
  });

  it.each([403, 410])("HTTP %i on the URL counts as expired too", async (status) => {
    route(() => mediaUrlAnswer(2), (n) => (n === 1 ? { status } : recordingAnswer));
    expect(Buffer.from(await downloadMediaBytes(client(), { id: MEDIA_ID, url: mediaUrl(1) }))).toEqual(RECORDING);
    expect(server.requests).toHaveLength(3);
  });

  it("a second 404 on the fresh URL is WhatsAppMediaExpiredError, after exactly one refresh", async () => {
    const graph = route(() => mediaUrlAnswer(2), () => notFound);
    const error = await rejection(downloadMedia(client(), { id: MEDIA_ID, url: mediaUrl(1) }));
    expect(error).toBeInstanceOf(WhatsAppMediaExpiredError);
    expect(error).toMatchObject({ status: 404, mediaId: MEDIA_ID, refreshed: true });
    expect(graph.graphCalls()).toBe(1);
    expect(server.requests.map((request) => request.query.get("ext") ?? "graph")).toEqual(["1", "graph", "2"]);
  });

  it("by id, a 404 on the first URL also gets one fresh URL, and a second 404 is the typed error", async () => {
    const graph = route(() => mediaUrlAnswer(graphCount()), () => notFound);
    let count = 0;
    function graphCount() {
      return ++count;
    }
    const error = await rejection(downloadMedia(client(), MEDIA_ID));
    expect(error).toMatchObject({ name: "WhatsAppMediaExpiredError", refreshed: true });
    expect(graph.graphCalls()).toBe(2);
    expect(server.requests).toHaveLength(4);
  });

  it("a media id Graph no longer has (code 100, subcode 33: expired or deleted) is WhatsAppMediaExpiredError with the API error as cause", async () => {
    const gone = {
      status: 400,
      body: { error: { message: `Unsupported get request. Object with ID '${MEDIA_ID}' does not exist`, type: "GraphMethodException", code: 100, error_subcode: 33, fbtrace_id: "A1" } },
    };
    route(() => gone, () => notFound);
    const byId = await rejection(downloadMedia(client(), MEDIA_ID));
    expect(byId).toBeInstanceOf(WhatsAppMediaExpiredError);
    expect(byId).toMatchObject({ status: 400, mediaId: MEDIA_ID, refreshed: false });
    expect((byId as Error).message).toBe(
      `Media ${MEDIA_ID} is gone (HTTP 400, code 100/33: no such object): expired 7 days after its webhook, or deleted`,
    );
    expect((byId as Error).cause).toBeInstanceOf(WhatsAppApiError);
    expect((byId as Error).cause).toMatchObject({ status: 400, code: 100, subcode: 33 });
    // After an expired URL, the refresh (asked for: `refreshed`) meets the same answer.
    const afterUrl = await rejection(downloadMedia(client(), { id: MEDIA_ID, url: mediaUrl(1) }));
    expect(afterUrl).toMatchObject({ name: "WhatsAppMediaExpiredError", status: 400, refreshed: true });
    // getMediaUrl itself answers what Graph said; another code 100 stays a WhatsAppApiError in a download too.
    expect(await rejection(getMediaUrl(client(), MEDIA_ID))).toMatchObject({ name: "WhatsAppApiError", code: 100, subcode: 33 });
    route(() => ({ status: 400, body: { error: { message: "Invalid parameter", type: "OAuthException", code: 100, fbtrace_id: "A2" } } }), () => notFound);
    expect(await rejection(downloadMedia(client(), MEDIA_ID))).toMatchObject({ name: "WhatsAppApiError", code: 100, subcode: undefined });
  });

  it("a bare URL without media id cannot be refreshed: the 404 is WhatsAppMediaExpiredError at once", async () => {
    route(() => mediaUrlAnswer(2), () => notFound);
    const error = await rejection(downloadMedia(client(), mediaUrl(1)));
    expect(error).toMatchObject({ name: "WhatsAppMediaExpiredError", status: 404, refreshed: false, mediaId: undefined });
    expect((error as Error).message).toMatch(/mediaId/);
    expect(server.requests).toHaveLength(1);
  });

  it("a bare URL with the mediaId option is refreshed", async () => {
    route(() => mediaUrlAnswer(2), (n) => (n === 1 ? notFound : recordingAnswer));
    expect(Buffer.from(await downloadMediaBytes(client(), mediaUrl(1), { mediaId: MEDIA_ID }))).toEqual(RECORDING);
  });

  it("another error status is a WhatsAppApiError with the status, its text without the token (a 5xx after the client's retries)", async () => {
    route(() => mediaUrlAnswer(1), () => ({ status: 500, body: `upstream failed for Bearer ${TOKEN}` }));
    const error = await rejection(downloadMedia(client({ retry: { retries: 2, minDelayMs: 1, maxDelayMs: 1 } }), { id: MEDIA_ID, url: mediaUrl(1) }));
    expect(error).toBeInstanceOf(WhatsAppApiError);
    expect(error).toMatchObject({ status: 500, action: "downloadMedia", retryable: true });
    expect((error as Error).message).not.toContain(TOKEN);
    expect(JSON.stringify((error as WhatsAppApiError).body)).not.toContain(TOKEN);
    expect(server.requests).toHaveLength(3);
    for (const request of server.requests) expectDownloadRequest(request, 1);
  });

  it("a 4xx that is not an expiry is not repeated", async () => {
    route(() => mediaUrlAnswer(1), () => ({ status: 400, body: '{"error":{"message":"bad","code":100}}' }));
    const error = await rejection(downloadMedia(client({ retry: { retries: 2, minDelayMs: 1, maxDelayMs: 1 } }), { id: MEDIA_ID, url: mediaUrl(1) }));
    expect(error).toMatchObject({ name: "WhatsAppApiError", status: 400, code: 100, action: "downloadMedia" });
    expect(server.requests).toHaveLength(1);
  });

  it("a 503 or a 429 of the media host is retried as the client's requests are, with retry: false not at all", async () => {
    route(() => mediaUrlAnswer(1), () => recordingAnswer);
    let downloads = 0;
    server.setHandler((request) => {
      if (request.path !== ATTACHMENT_PATH) return mediaUrlAnswer(1);
      downloads += 1;
      return downloads === 1 ? { status: 503, body: "busy" } : downloads === 2 ? { status: 429, headers: { "retry-after": "0" }, body: "slow down" } : recordingAnswer;
    });
    const retries: unknown[] = [];
    const calls = client({ retry: { retries: 2, minDelayMs: 1, maxDelayMs: 1 }, onRetry: (info) => retries.push([info.action, info.attempt]) });
    expect(Buffer.from(await downloadMediaBytes(calls, { id: MEDIA_ID, url: mediaUrl(1), sha256: SHA256_BASE64 }))).toEqual(RECORDING);
    expect(retries).toEqual([["downloadMedia", 1], ["downloadMedia", 2]]);
    expect(server.requests).toHaveLength(3);
    for (const request of server.requests) expectDownloadRequest(request, 1);

    downloads = 0;
    server.requests.length = 0;
    const error = await rejection(downloadMedia(client({ retry: false }), { id: MEDIA_ID, url: mediaUrl(1) }));
    expect(error).toMatchObject({ name: "WhatsAppApiError", status: 503 });
    expect(server.requests).toHaveLength(1);
  });

  it("a retry waits only for what is left of the download's deadline (getMediaUrl's time counts): a 429 it could not wait out is the 429", async () => {
    server.setHandler((request) =>
      request.path === ATTACHMENT_PATH ? { status: 429, headers: { "retry-after": "0.6" }, body: "slow down" } : { ...mediaUrlAnswer(1), delayMs: 600 },
    );
    const error = await rejection(downloadMedia(client({ timeoutMs: 1_000, retry: { retries: 2, minDelayMs: 1, maxDelayMs: 4_000 } }), MEDIA_ID));
    expect(error).toMatchObject({ name: "WhatsAppApiError", status: 429, action: "downloadMedia" });
    expect(server.requests.map((request) => request.path)).toEqual([`${VERSION}/${MEDIA_ID}`, ATTACHMENT_PATH]);
  });

  it("a download that times out leaves the client's other requests as they were (no abort signal of their own)", async () => {
    const signals: (AbortSignal | undefined)[] = [];
    const calls = client({ fetch: (input, init) => (signals.push(init.signal ?? undefined), fetch(input, init)) });
    server.setHandler((request) => (request.path === ATTACHMENT_PATH ? { hang: true } : { status: 200, body: { success: true } }));
    expect(await rejection(downloadMedia(calls, { id: MEDIA_ID, url: mediaUrl(1) }, { timeoutMs: 100 }))).toBeInstanceOf(WhatsAppTimeoutError);
    expect(signals[0]).toBeInstanceOf(AbortSignal);
    await calls.terminate("wacid.after-the-timeout");
    expect(signals).toHaveLength(2);
    expect(signals[1]).toBeUndefined();
  });

  it("an expired URL's answer is not read past 16 KiB: a long one is let go, and the fresh URL is still asked for", async () => {
    route(() => mediaUrlAnswer(2), (n) => (n === 1 ? { status: 404, body: "x".repeat(2_000_000) } : recordingAnswer));
    expect(Buffer.from(await downloadMediaBytes(client(), { id: MEDIA_ID, url: mediaUrl(1) }))).toEqual(RECORDING);
    expect(server.requests.map((request) => request.path)).toEqual([ATTACHMENT_PATH, `${VERSION}/${MEDIA_ID}`, ATTACHMENT_PATH]);
    route(() => mediaUrlAnswer(1), () => ({ status: 500, chunks: { size: 65_536, count: 1_000 } }));
    const error = await rejection(downloadMedia(client({ retry: false }), { id: MEDIA_ID, url: mediaUrl(1) }));
    expect(error).toMatchObject({ name: "WhatsAppApiError", status: 500, body: undefined });
    // The 64 MB answer was let go: the connection closed before the server could write it all.
    expect(await server.streams.at(-1)).toMatchObject({ closedEarly: true });
  });

  it("a 401 with a token code refreshes the token once and downloads with the new one", async () => {
    server.setHandler((request) => {
      if (request.headers.authorization !== "Bearer fresh-token") {
        return { status: 401, headers: { "content-type": "application/json" }, body: '{"error":{"message":"Error validating access token","type":"OAuthException","code":190}}' };
      }
      return request.path === ATTACHMENT_PATH ? recordingAnswer : mediaUrlAnswer(1);
    });
    let refreshes = 0;
    const calls = client({ refreshAccessToken: async () => (refreshes++, "fresh-token") });
    expect(Buffer.from(await downloadMediaBytes(calls, { id: MEDIA_ID, url: mediaUrl(1) }))).toEqual(RECORDING);
    expect(refreshes).toBe(1);
    expect(server.requests.map((request) => [request.path, request.headers.authorization])).toEqual([
      [ATTACHMENT_PATH, `Bearer ${TOKEN}`],
      [ATTACHMENT_PATH, "Bearer fresh-token"],
    ]);
  });

  it("the hooks see every attempt of the download and may add headers to it; the log gets its summary", async () => {
    let downloads = 0;
    server.setHandler((request) => {
      if (request.path !== ATTACHMENT_PATH) return mediaUrlAnswer(1);
      downloads += 1;
      return downloads === 1 ? { status: 502, body: "bad gateway" } : recordingAnswer;
    });
    const seen: unknown[] = [];
    const lines: string[] = [];
    const calls = client({
      retry: { retries: 1, minDelayMs: 1, maxDelayMs: 1 },
      hooks: {
        onRequest: (info) => (seen.push(["request", info.action, info.method, info.path, info.attempt]), { traceparent: `00-trace-${info.attempt}` }),
        onResponse: (result) => seen.push(["response", result.action, result.outcome, result.status, result.attempt]),
      },
      logger: { info: (message: string) => lines.push(message), warn: (message: string) => lines.push(message), error: (message: string) => lines.push(message), debug: () => {} },
    });
    await downloadMediaBytes(calls, MEDIA_ID);
    expect(seen).toEqual([
      ["request", "getMediaUrl", "GET", `/${MEDIA_ID}`, 1],
      ["response", "getMediaUrl", "success", 200, 1],
      ["request", "downloadMedia", "GET", ATTACHMENT_PATH, 1],
      ["response", "downloadMedia", "retry", 502, 1],
      ["request", "downloadMedia", "GET", ATTACHMENT_PATH, 2],
      ["response", "downloadMedia", "success", 200, 2],
    ]);
    expect(server.requests.map((request) => [request.path, request.headers.traceparent])).toEqual([
      [`${VERSION}/${MEDIA_ID}`, "00-trace-1"],
      [ATTACHMENT_PATH, "00-trace-1"],
      [ATTACHMENT_PATH, "00-trace-2"],
    ]);
    // The delay has jitter: 0 or 1 ms here.
    expect(lines.map((line) => line.replace(/in [01] ms$/, "in N ms"))).toEqual([
      "whatsapp-calling: getMediaUrl → 200",
      "whatsapp-calling: downloadMedia attempt 1 failed; retrying in N ms",
      "whatsapp-calling: downloadMedia → 200",
    ]);
  });

  it("an announced Content-Length over maxBytes fails before the body is read", async () => {
    route(() => mediaUrlAnswer(1), () => recordingAnswer);
    const error = await rejection(downloadMedia(client(), mediaUrl(1), { maxBytes: RECORDING.length - 1 }));
    expect(error).toBeInstanceOf(WhatsAppMediaTooLargeError);
    expect(error).toMatchObject({ maxBytes: RECORDING.length - 1, size: RECORDING.length });
  });

  it("a file_size over maxBytes fails before the download is requested", async () => {
    route(() => mediaUrlAnswer(1, { file_size: "5000" }), () => recordingAnswer);
    const error = await rejection(downloadMedia(client(), MEDIA_ID, { maxBytes: 4999 }));
    expect(error).toMatchObject({ name: "WhatsAppMediaTooLargeError", size: 5000, maxBytes: 4999 });
    expect(server.requests).toHaveLength(1);
  });

  it("a streamed body without Content-Length stops being read past maxBytes", async () => {
    const chunk = 64 * 1024;
    const count = 2048; // 128 MiB offered
    route(() => mediaUrlAnswer(1), () => ({ headers: { "content-type": "audio/ogg" }, chunks: { size: chunk, count } }));
    const maxBytes = 1024 * 1024;
    const download = await downloadMedia(client(), mediaUrl(1), { maxBytes });
    expect(download.size).toBeUndefined();
    const error = await rejection(download.bytes());
    expect(error).toBeInstanceOf(WhatsAppMediaTooLargeError);
    expect((error as WhatsAppMediaTooLargeError).size).toBeGreaterThan(maxBytes);
    const outcome = await server.streams[0]!;
    expect(outcome.closedEarly).toBe(true);
    // Socket buffers hold a few chunks at most; nowhere near the 128 MiB offered.
    expect(outcome.written).toBeLessThan(32 * 1024 * 1024);
  });

  it("the default cap is 100 MiB", () => {
    expect(DEFAULT_MEDIA_MAX_BYTES).toBe(100 * 1024 * 1024);
  });

  it("the caller's abort ends the stream with its reason and closes the connection", async () => {
    route(() => mediaUrlAnswer(1), () => ({ chunks: { size: 64 * 1024, count: 2048 } }));
    const controller = new AbortController();
    const download = await downloadMedia(client(), mediaUrl(1), { signal: controller.signal });
    const reader = download.body.getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    const reason = new Error("caller gave up");
    controller.abort(reason);
    await expect(reader.read()).rejects.toBe(reason);
    expect((await server.streams[0]!).closedEarly).toBe(true);
  });

  it("an abort before the answer rejects with the caller's reason", async () => {
    route(() => mediaUrlAnswer(1), () => ({ hang: true }));
    const controller = new AbortController();
    const pending = downloadMedia(client(), mediaUrl(1), { signal: controller.signal });
    const reason = new Error("stop");
    setTimeout(() => controller.abort(reason), 20);
    await expect(pending).rejects.toBe(reason);
  });

  it("a body that stalls hits the deadline: WhatsAppTimeoutError", async () => {
    route(() => mediaUrlAnswer(1), () => ({ stall: true }));
    const download = await downloadMedia(client(), mediaUrl(1), { timeoutMs: 150 });
    const error = await rejection(download.bytes());
    expect(error).toBeInstanceOf(WhatsAppTimeoutError);
    expect(error).toMatchObject({ action: "downloadMedia", timeoutMs: 150 });
  });

  it("one deadline covers the Graph call of a download by id", async () => {
    route(() => ({ hang: true }), () => recordingAnswer);
    const error = await rejection(downloadMedia(client(), MEDIA_ID, { timeoutMs: 150 }));
    expect(error).toBeInstanceOf(WhatsAppTimeoutError);
    expect(error).toMatchObject({ action: "downloadMedia", timeoutMs: 150 });
    expect(server.requests).toHaveLength(1);
  });

  it("a download's deadline aborts its fetches from the first one (a client's requests wait for a timeout first)", async () => {
    route(() => ({ hang: true }), () => recordingAnswer);
    const inits: RequestInit[] = [];
    const calls = mediaClient(server, { fetch: (url, init) => (inits.push(init), fetch(url, init)) });
    const error = await rejection(downloadMedia(calls, MEDIA_ID, { timeoutMs: 150 }));
    expect(error).toBeInstanceOf(WhatsAppTimeoutError);
    expect(inits).toHaveLength(1);
    expect(inits[0]!.signal?.aborted).toBe(true);
    expect(inits[0]!.signal?.reason).toBe(error);
  });

  it("cancelling the stream closes the connection", async () => {
    route(() => mediaUrlAnswer(1), () => ({ chunks: { size: 64 * 1024, count: 2048 } }));
    const download = await downloadMedia(client(), mediaUrl(1));
    await download.body.cancel();
    expect((await server.streams[0]!).closedEarly).toBe(true);
  });

  it("a redirect is not followed (it would carry the token): a WhatsAppApiError with the 3xx", async () => {
    route(() => mediaUrlAnswer(1), () => ({ status: 302, headers: { location: mediaUrl(2) } }));
    const error = await rejection(downloadMedia(client(), mediaUrl(1)));
    expect(error).toBeInstanceOf(WhatsAppApiError);
    expect(error).toMatchObject({ status: 302, action: "downloadMedia" });
    expect(server.requests).toHaveLength(1);
  });

  it("never sends the token over plain http to another host", async () => {
    const error = await rejection(downloadMedia(client(), "http://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1"));
    expect(error).toBeInstanceOf(WhatsAppValidationError);
    expect((error as Error).message).toMatch(/refusing to send the access token/);
  });

  it("no error message or field carries the token", async () => {
    const failures: unknown[] = [];
    route(
      () => ({ status: 401, body: { error: { message: `bad token ${TOKEN}`, code: 190, type: "OAuthException" } } }),
      () => ({ status: 500, body: { error: { message: `echo ${TOKEN}`, code: 1 } } }),
    );
    failures.push(await rejection(downloadMedia(client(), MEDIA_ID)));
    failures.push(await rejection(downloadMedia(client(), mediaUrl(1))));
    route(() => mediaUrlAnswer(1), () => ({ body: RECORDING }));
    failures.push(await rejection(downloadMediaBytes(client(), mediaUrl(1), { sha256: "22".repeat(32) })));
    for (const failure of failures) {
      expect(failure).toBeInstanceOf(WhatsAppError);
      const everything = JSON.stringify(failure, Object.getOwnPropertyNames(failure)) + String((failure as Error).stack);
      expect(everything).not.toContain(TOKEN);
    }
  });
});

describe("on the client's request path", () => {
  it("getMediaUrl is retried after a 5xx; the download follows", async () => {
    let graphCalls = 0;
    route(
      () => (++graphCalls === 1 ? { status: 503, body: { error: { message: "busy", code: 2, is_transient: true } } } : mediaUrlAnswer(1)),
      () => recordingAnswer,
    );
    const calls = mediaClient(server, { retry: { retries: 1, minDelayMs: 1, maxDelayMs: 1 } });
    expect(Buffer.from(await downloadMediaBytes(calls, MEDIA_ID))).toEqual(RECORDING);
    expect(server.requests.map((request) => request.path)).toEqual([`${VERSION}/${MEDIA_ID}`, `${VERSION}/${MEDIA_ID}`, ATTACHMENT_PATH]);
  });

  it("a 401/190 on getMediaUrl refreshes the token once; the download then carries the new token", async () => {
    const fresh = "EAAG-refreshed-media-token-9876543210";
    route(
      (request) =>
        request.headers.authorization === `Bearer ${TOKEN}`
          ? { status: 401, body: { error: { message: "Error validating access token", type: "OAuthException", code: 190 } } }
          : mediaUrlAnswer(1),
      () => recordingAnswer,
    );
    let refreshes = 0;
    const calls = mediaClient(server, { refreshAccessToken: async () => (refreshes++, fresh) });
    expect(Buffer.from(await downloadMediaBytes(calls, MEDIA_ID))).toEqual(RECORDING);
    expect(refreshes).toBe(1);
    expect(server.requests.map((request) => request.headers.authorization)).toEqual([`Bearer ${TOKEN}`, `Bearer ${fresh}`, `Bearer ${fresh}`]);
  });

  it("the download reads the token at its start: a rotation reaches the next download", async () => {
    route(() => mediaUrlAnswer(1), () => recordingAnswer);
    const calls = mediaClient(server);
    await downloadMediaBytes(calls, mediaUrl(1));
    calls.setAccessToken("EAAG-rotated-token-000111222");
    await downloadMediaBytes(calls, mediaUrl(1));
    expect(server.requests.map((request) => request.headers.authorization)).toEqual([`Bearer ${TOKEN}`, "Bearer EAAG-rotated-token-000111222"]);
  });
});
