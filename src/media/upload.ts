// The voicemail announcement: an OGG/Opus file under 60 seconds, uploaded with
// `use_case=call_voicemail_announcement`. It is checked before it leaves (type, size, container, codec,
// duration), because Meta's refusal of a bad file names no field and comes after the whole upload.
import type { MediaUploadResponse, VoicemailAnnouncementUploadRequest } from "../../generated/openapi.js";
import { WhatsAppValidationError } from "../errors.js";
import { WhatsAppResponseError } from "../client/errors.js";
import type { CallingClient } from "../client.js";
import { clientContext } from "../client/context.js";
import { checkMediaId, graphJson, type MediaRequestOptions } from "./context.js";

/** Default cap of an announcement: 16 MiB, Meta's limit for audio media. 60 s of Opus is under 4 MB at any bitrate. */
export const DEFAULT_ANNOUNCEMENT_MAX_BYTES = 16 * 1024 * 1024;
/** Meta plays announcements shorter than this. [SET26] */
export const MAX_ANNOUNCEMENT_SECONDS = 60;

/** The fixed form fields, typed by openapi.yaml's VoicemailAnnouncementUploadRequest (the sandbox checks them too). */
export const ANNOUNCEMENT_FIELDS: Pick<VoicemailAnnouncementUploadRequest, "messaging_product" | "type" | "use_case"> = {
  messaging_product: "whatsapp",
  type: "audio/ogg",
  use_case: "call_voicemail_announcement",
};

export interface UploadAnnouncementOptions extends MediaRequestOptions {
  /** Your label, e.g. "Default announcement (English)". */
  description?: string | undefined;
  /** File name of the upload. Default: the File's name, else `announcement.ogg`. */
  filename?: string | undefined;
  /** Largest file accepted, in bytes. Default DEFAULT_ANNOUNCEMENT_MAX_BYTES (16 MiB). */
  maxBytes?: number | undefined;
}

export interface UploadAnnouncementResult {
  /** The media id: `calling.voicemail.audio.default.announcement_media_id` of the settings. */
  mediaId: string;
  /** The announcement's length, read from the file. */
  durationSeconds: number;
  data: MediaUploadResponse;
}

export type AnnouncementFile = Blob | ArrayBuffer | Uint8Array;

/** `POST /{phone-number-id}/media` with `use_case=call_voicemail_announcement`. Never repeated automatically. */
export async function uploadVoicemailAnnouncement(
  calls: CallingClient,
  file: AnnouncementFile,
  options: UploadAnnouncementOptions = {},
): Promise<UploadAnnouncementResult> {
  const context = clientContext(calls);
  const maxBytes = options.maxBytes ?? DEFAULT_ANNOUNCEMENT_MAX_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) {
    throw new WhatsAppValidationError("maxBytes must be a whole number of bytes above 0", { path: "maxBytes" });
  }
  const bytes = await readFile(file, maxBytes);
  const durationSeconds = oggOpusDuration(bytes);
  if (durationSeconds >= MAX_ANNOUNCEMENT_SECONDS) {
    throw new WhatsAppValidationError(
      `the announcement lasts ${durationSeconds.toFixed(2)} s; Meta plays announcements shorter than ${MAX_ANNOUNCEMENT_SECONDS} s`,
      { path: "file", action: "uploadVoicemailAnnouncement" },
    );
  }
  if (options.description !== undefined && typeof options.description !== "string") {
    throw new WhatsAppValidationError("description must be a string", { path: "description" });
  }
  const filename = options.filename ?? (typeof (file as { name?: unknown }).name === "string" ? (file as File).name : "announcement.ogg");

  const form = new FormData();
  form.append("messaging_product", ANNOUNCEMENT_FIELDS.messaging_product);
  form.append("type", ANNOUNCEMENT_FIELDS.type);
  form.append("use_case", ANNOUNCEMENT_FIELDS.use_case);
  if (options.description !== undefined) form.append("description", options.description);
  form.append("file", new Blob([bytes as Uint8Array<ArrayBuffer>], { type: ANNOUNCEMENT_FIELDS.type }), filename);

  const phoneNumberId = checkMediaId(context.phoneNumberId(), "phoneNumberId");
  const data = (await graphJson(
    context,
    { endpoint: "uploadMedia", path: `/${phoneNumberId}/media`, body: form, action: "uploadVoicemailAnnouncement" },
    options,
  )) as Partial<MediaUploadResponse> & { id?: unknown };
  // Ids are strings on the wire; a number is taken too (the settings samples write the id unquoted).
  const mediaId = typeof data.id === "number" ? String(data.id) : data.id;
  if (typeof mediaId !== "string" || mediaId.length === 0) {
    throw new WhatsAppResponseError("the upload succeeded but the answer has no media id", {
      status: 200,
      action: "uploadVoicemailAnnouncement",
    });
  }
  return { mediaId, durationSeconds, data: { ...data, id: mediaId } };
}

async function readFile(file: AnnouncementFile, maxBytes: number): Promise<Uint8Array> {
  let bytes: Uint8Array;
  if (typeof Blob !== "undefined" && file instanceof Blob) {
    const type = file.type.split(";")[0]!.trim().toLowerCase();
    if (type !== "" && type !== "audio/ogg" && type !== "application/octet-stream") {
      throw new WhatsAppValidationError(`the announcement must be audio/ogg (OGG with the OPUS codec), got ${file.type}`, {
        path: "file",
        action: "uploadVoicemailAnnouncement",
      });
    }
    checkSize(file.size, maxBytes);
    bytes = new Uint8Array(await file.arrayBuffer());
  } else if (file instanceof ArrayBuffer) {
    bytes = new Uint8Array(file);
  } else if (file instanceof Uint8Array) {
    bytes = file;
  } else {
    throw new WhatsAppValidationError("the announcement must be a Blob, a File, an ArrayBuffer or a Uint8Array", {
      path: "file",
      action: "uploadVoicemailAnnouncement",
    });
  }
  checkSize(bytes.byteLength, maxBytes);
  return bytes;
}

function checkSize(size: number, maxBytes: number) {
  if (size === 0) throw new WhatsAppValidationError("the announcement file is empty", { path: "file", action: "uploadVoicemailAnnouncement" });
  if (size > maxBytes) {
    throw new WhatsAppValidationError(`the announcement is ${size} bytes, more than maxBytes (${maxBytes})`, {
      path: "file",
      action: "uploadVoicemailAnnouncement",
    });
  }
}

const OGG_CAPTURE = [0x4f, 0x67, 0x67, 0x53]; // "OggS"
const OPUS_HEAD = [0x4f, 0x70, 0x75, 0x73, 0x48, 0x65, 0x61, 0x64]; // "OpusHead"
const OPUS_RATE = 48_000; // Opus granule positions count 48 kHz samples (RFC 7845, section 4)

function bytesAt(bytes: Uint8Array, offset: number, expected: number[]): boolean {
  return expected.every((byte, i) => bytes[offset + i] === byte);
}

/**
 * The duration of an OGG/Opus file (RFC 7845): the granule position of the last page that has one, minus the
 * pre-skip of the OpusHead packet, in 48 kHz samples. Throws WhatsAppValidationError if it is not OGG/Opus.
 */
export function oggOpusDuration(bytes: Uint8Array): number {
  const invalid = (why: string) =>
    new WhatsAppValidationError(`the announcement must be OGG audio with the OPUS codec: ${why}`, {
      path: "file",
      action: "uploadVoicemailAnnouncement",
    });
  if (bytes.byteLength < 28 || !bytesAt(bytes, 0, OGG_CAPTURE)) throw invalid("the file does not start with an OGG page");
  const firstPayload = 27 + bytes[26]!;
  if (!bytesAt(bytes, firstPayload, OPUS_HEAD)) throw invalid("the first OGG packet is not an OpusHead (another codec, e.g. Vorbis)");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const preSkip = view.getUint16(firstPayload + 10, true);
  for (let offset = bytes.byteLength - 27; offset > 0; offset--) {
    if (!bytesAt(bytes, offset, OGG_CAPTURE) || bytes[offset + 4] !== 0) continue;
    const low = view.getUint32(offset + 6, true);
    const high = view.getUint32(offset + 10, true);
    if (low === 0xffffffff && high === 0xffffffff) continue; // no packet ends on this page
    const samples = high * 2 ** 32 + low - preSkip;
    if (samples <= 0) break;
    return samples / OPUS_RATE;
  }
  throw invalid("it holds no audio after its headers");
}
