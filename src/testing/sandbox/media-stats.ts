// What the sandbox's user measured on a call (its own file, so that werift's types stay out of the public ones).

/** What `sandbox.mediaStats(callId)` reports. Bytes are RTP payload bytes. */
export interface MediaStats {
  /** ICE and DTLS completed with the bot. */
  readonly connected: boolean;
  /** From the moment the user's side had both SDPs to connected; undefined until connected. */
  readonly connectMs: number | undefined;
  readonly sent: { readonly packets: number; readonly bytes: number };
  readonly received: { readonly packets: number; readonly bytes: number };
}
