// Test helpers of the media tests: a node:http server on 127.0.0.1 that keeps each request's raw bytes and can
// stream its answer chunk by chunk (so a test sees how far the client read), a multipart/form-data parser for
// the server side, a builder of real OGG/Opus files, and the context the media functions take.
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { createCallingClient, type CallingClient, type CallingClientOptions } from "../../src/index.js";

export interface RecordedMediaRequest {
  method: string;
  /** Path and query as sent. */
  url: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** How a streamed answer went: how many bytes the server could write before the client went away. */
export interface StreamOutcome {
  written: number;
  /** True when the connection closed before the server wrote everything. */
  closedEarly: boolean;
}

export interface MediaReply {
  status?: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON. */
  body?: unknown;
  /** Written in chunks, each after the previous one was taken by the socket (backpressure). */
  chunks?: { size: number; count: number; byte?: number };
  /** Send the headers, then stall. */
  stall?: boolean;
  /** Never answer, not even the headers. */
  hang?: boolean;
  /** Answer after this long. */
  delayMs?: number;
}

export type MediaHandler = (request: RecordedMediaRequest, index: number) => MediaReply;

export interface MediaServer {
  url: string;
  requests: RecordedMediaRequest[];
  /** One promise per streamed answer, in order. */
  streams: Promise<StreamOutcome>[];
  setHandler(handler: MediaHandler): void;
}

export function useMediaServer(): MediaServer {
  let handler: MediaHandler = () => ({ status: 500, body: "no handler" });
  const requests: RecordedMediaRequest[] = [];
  const streams: Promise<StreamOutcome>[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const recorded: RecordedMediaRequest = {
        method: req.method ?? "",
        url: req.url ?? "",
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      const index = requests.push(recorded) - 1;
      const reply = handler(recorded, index);
      if (reply.delayMs) setTimeout(() => res.destroyed || answer(res, reply, streams), reply.delayMs).unref();
      else answer(res, reply, streams);
    });
  });
  let base = "";
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  beforeEach(() => {
    requests.length = 0;
    streams.length = 0;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    get url() {
      return base;
    },
    requests,
    streams,
    setHandler(next) {
      handler = next;
    },
  };
}

function answer(res: ServerResponse, reply: MediaReply, streams: Promise<StreamOutcome>[]) {
  if (reply.hang) return;
  const json = reply.body !== undefined && !(reply.body instanceof Uint8Array) && typeof reply.body === "object";
  const body =
    reply.body === undefined ? "" : reply.body instanceof Uint8Array ? reply.body : typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body);
  const length = reply.chunks || reply.stall ? {} : { "content-length": String(Buffer.byteLength(body)) };
  res.writeHead(reply.status ?? 200, { ...(json ? { "content-type": "application/json" } : {}), ...length, ...reply.headers });
  if (reply.stall) {
    res.flushHeaders();
    return;
  }
  if (reply.chunks) {
    const { size, count, byte = 0x61 } = reply.chunks;
    const chunk = Buffer.alloc(size, byte);
    streams.push(
      new Promise<StreamOutcome>((resolve) => {
        let written = 0;
        let sent = 0;
        let finished = false;
        res.on("close", () => resolve({ written, closedEarly: !finished }));
        const writeNext = () => {
          if (res.destroyed) return;
          if (sent === count) {
            finished = true;
            res.end();
            return;
          }
          sent += 1;
          res.write(chunk, () => {
            written += size;
            writeNext();
          });
        };
        writeNext();
      }),
    );
    return;
  }
  res.end(body);
}

export interface MultipartPart {
  name: string;
  filename: string | undefined;
  contentType: string | undefined;
  bytes: Buffer;
}

/** Parses a multipart/form-data body (RFC 7578) as the server received it. */
export function parseMultipart(body: Buffer, contentType: string | undefined): MultipartPart[] {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType ?? "");
  if (!boundary) throw new Error(`not multipart/form-data: ${contentType}`);
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const parts: MultipartPart[] = [];
  let position = body.indexOf(delimiter);
  if (position !== 0) throw new Error("the body does not start with the boundary");
  for (;;) {
    position += delimiter.length;
    if (body.subarray(position, position + 2).toString() === "--") break;
    if (body.subarray(position, position + 2).toString() !== "\r\n") throw new Error("boundary not followed by CRLF");
    position += 2;
    const headerEnd = body.indexOf("\r\n\r\n", position);
    const headers = body.subarray(position, headerEnd).toString("utf8").split("\r\n");
    const next = body.indexOf(Buffer.concat([Buffer.from("\r\n"), delimiter]), headerEnd + 4);
    if (next < 0) throw new Error("unterminated part");
    const disposition = headers.find((line) => /^content-disposition:/i.test(line)) ?? "";
    const type = headers.find((line) => /^content-type:/i.test(line));
    parts.push({
      name: /\bname="([^"]*)"/.exec(disposition)?.[1] ?? "",
      filename: /\bfilename="([^"]*)"/.exec(disposition)?.[1],
      contentType: type?.replace(/^content-type:\s*/i, ""),
      bytes: body.subarray(headerEnd + 4, next),
    });
    position = next + 2;
  }
  return parts;
}

export const TOKEN = "EAAG-media-test-token-0123456789";
export const PHONE_NUMBER_ID = "117823401562387";

/** A client pointed at the test server (the media methods are the client's). */
export function mediaClient(server: MediaServer, options: Partial<CallingClientOptions> = {}): CallingClient {
  return createCallingClient({ phoneNumberId: PHONE_NUMBER_ID, accessToken: TOKEN, baseUrl: server.url, timeoutMs: 10_000, ...options });
}

// ---------------------------------------------------------------- OGG/Opus files (RFC 3533, RFC 7845)

const CRC_TABLE = Array.from({ length: 256 }, (_, i) => {
  let crc = i << 24;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
  return crc >>> 0;
});

function oggPage(packets: Buffer[], granule: bigint, sequence: number, headerType: number): Buffer {
  const segments: number[] = [];
  for (const packet of packets) {
    let left = packet.length;
    while (left >= 255) {
      segments.push(255);
      left -= 255;
    }
    segments.push(left);
  }
  const header = Buffer.alloc(27 + segments.length);
  header.write("OggS", 0, "latin1");
  header[5] = headerType;
  header.writeBigInt64LE(granule, 6);
  header.writeUInt32LE(0x5157a11, 14); // serial number
  header.writeUInt32LE(sequence, 18);
  header[26] = segments.length;
  segments.forEach((length, i) => (header[27 + i] = length));
  const page = Buffer.concat([header, ...packets]);
  let crc = 0;
  for (const byte of page) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ byte) & 0xff]!) >>> 0;
  page.writeUInt32LE(crc, 22);
  return page;
}

/** A real OGG/Opus file of `seconds` of silence (20 ms CELT frames), mono, 48 kHz, with `preSkip` samples. */
export function oggOpus(seconds: number, preSkip = 312): Buffer {
  const head = Buffer.alloc(19);
  head.write("OpusHead", 0, "latin1");
  head[8] = 1; // version
  head[9] = 1; // channels
  head.writeUInt16LE(preSkip, 10);
  head.writeUInt32LE(48_000, 12);
  const vendor = Buffer.from("whatsapp-calling tests");
  const tags = Buffer.alloc(8 + 4 + vendor.length + 4);
  tags.write("OpusTags", 0, "latin1");
  tags.writeUInt32LE(vendor.length, 8);
  vendor.copy(tags, 12);
  const pages = [oggPage([head], 0n, 0, 0x02), oggPage([tags], 0n, 1, 0)];
  const frames = Math.round((seconds * 48_000) / 960);
  const silence = Buffer.from([0xf8, 0xff, 0xfe]); // TOC: CELT fullband 20 ms, one frame
  for (let done = 0, sequence = 2; done < frames; sequence++) {
    const count = Math.min(50, frames - done);
    done += count;
    const last = done === frames;
    pages.push(oggPage(Array.from({ length: count }, () => silence), BigInt(done * 960 + preSkip), sequence, last ? 0x04 : 0));
  }
  return Buffer.concat(pages);
}
