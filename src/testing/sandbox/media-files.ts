// The sandbox's media: the files behind `call_recording.audio` and `call_transcript.document`, as the Media API
// serves them (calling-api-2026.md §1): `GET /{media-id}` answers a download URL valid for a few minutes, the
// URL needs the access token, `DELETE /{media-id}` removes the file. The webhook gives the SHA-256 in Base64,
// the Media API in hex, as Meta's samples do.
import type { MediaUrlResponse, WebhookMedia } from "../../../generated/openapi.js";
import { toHex } from "../../webhooks/bytes.js";

export interface MediaFile {
  readonly id: string;
  readonly bytes: Uint8Array;
  readonly mimeType: string;
  readonly sha256: Uint8Array;
}

export class MediaFiles {
  private readonly files = new Map<string, MediaFile>();

  /**
   * @param url the sandbox's address, once it listens
   * @param urlTtlMs how long a download URL works
   */
  constructor(
    private readonly url: () => string,
    private readonly urlTtlMs: number,
  ) {}

  async add(bytes: Uint8Array, mimeType: string): Promise<MediaFile> {
    let id: string;
    do id = String(1e15 + Math.floor(Math.random() * 9e15));
    while (this.files.has(id));
    const sha256 = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
    const file = { id, bytes, mimeType, sha256 };
    this.files.set(id, file);
    return file;
  }

  get(id: string): MediaFile | undefined {
    return this.files.get(id);
  }

  delete(id: string): boolean {
    return this.files.delete(id);
  }

  /** A download URL for the file, valid for `urlTtlMs`. */
  downloadUrl(file: MediaFile, now = Date.now()): string {
    return `${this.url()}/media-download/${file.id}?expires=${now + this.urlTtlMs}`;
  }

  /** The media object of a webhook. */
  webhookMedia(file: MediaFile): WebhookMedia {
    return { id: file.id, sha256: base64(file.sha256), mime_type: file.mimeType, url: this.downloadUrl(file) };
  }

  /** What `GET /{media-id}` answers. */
  urlResponse(file: MediaFile): MediaUrlResponse {
    return {
      messaging_product: "whatsapp",
      url: this.downloadUrl(file),
      mime_type: file.mimeType,
      sha256: toHex(file.sha256),
      file_size: String(file.bytes.byteLength),
      id: file.id,
    };
  }
}

function base64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}
