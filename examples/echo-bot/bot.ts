// An echo bot made only of the package's public API: it answers WhatsApp calls and places them, and sends the
// caller's audio back. It does what a bot must do against the real API:
//  - the WebRTC answer is made inside the error handling: an offer the WebRTC stack refuses ends the call
//    (reject), it does not make the webhook handler throw (a 500 would make Meta re-deliver the same offer);
//  - media set-up has a deadline: a call whose ICE + DTLS does not come up in time is terminated;
//  - a terminate can arrive before its connect (Meta does not guarantee order): the call is remembered as
//    ended, and the late connect is not answered;
//  - a recording is downloaded after its webhook has been answered, not while Meta waits for the answer.
import { WhatsAppError, type CallingClient, type RecordingOption } from "whatsapp-calling";
import { downloadMediaBytes } from "whatsapp-calling/media";
import { createWebhookHandler, type WebhookRequestHandler } from "whatsapp-calling/webhooks";
import { answerCall, createEchoPeer, offerCall, type EchoPeer } from "./media.js";

export interface EchoBotOptions {
  calls: CallingClient;
  appSecret: string;
  verifyToken: string;
  /** Where the bot says what it does. */
  log: (line: string) => void;
  /** How long ICE + DTLS may take after the answer. Default 10 s (Meta ends a call without media after 20 s). */
  mediaDeadlineMs?: number;
  /** Record the calls the bot answers (announced to both parties); each recording is downloaded when it comes. */
  recording?: RecordingOption;
}

interface CallSession {
  peer: EchoPeer;
  direction: "in" | "out";
  accepted: boolean;
}

export interface EchoBot {
  /** The webhook endpoint (web-standard; mount it with toNodeListener from whatsapp-calling/node). */
  handler: WebhookRequestHandler;
  /** Asks a user for permission to call; resolves with their answer when it arrives. */
  requestPermission(to: string): Promise<string>;
  /** Places a call; resolves with the call id once the user picked up. */
  placeCall(to: string): Promise<string>;
  hangUp(callId: string): Promise<void>;
  /** What the bot's peer sent and received on a call (kept after the call ended). */
  mediaOf(callId: string): { received: { packets: number; bytes: number }; sent: { packets: number; bytes: number } } | undefined;
  /** Resolves when the bot has seen the call end. */
  ended(callId: string): Promise<void>;
  /** Resolves with a recorded call's recording (Ogg Opus bytes, checksum checked) once it is downloaded. */
  recording(callId: string): Promise<Uint8Array>;
  close(): Promise<void>;
}

const short = (callId: string) => `…${callId.slice(-12, -2)}`;

export function createEchoBot(options: EchoBotOptions): EchoBot {
  const { calls, log } = options;
  const mediaDeadlineMs = options.mediaDeadlineMs ?? 10_000;
  const sessions = new Map<string, CallSession>();
  const media = new Map<string, EchoPeer>();
  /** Calls whose terminate has been seen, so that a late connect is not answered. */
  const endedCalls = new Set<string>();
  const endWaiters = new Map<string, () => void>();
  const permissionWaiters = new Map<string, (answer: string) => void>();
  const pickUpWaiters = new Map<string, { resolve: () => void; reject: (error: Error) => void }>();
  /** Calls being placed: a connect webhook may come before calls.connect() has returned the id. */
  const placing = new Set<Promise<unknown>>();
  const recordings = new Map<string, Promise<Uint8Array>>();
  const recordingWaiters = new Map<string, (recording: Promise<Uint8Array>) => void>();

  async function endLocally(callId: string): Promise<void> {
    endedCalls.add(callId);
    const session = sessions.get(callId);
    sessions.delete(callId);
    await session?.peer.close();
    pickUpWaiters.get(callId)?.reject(new Error("the call ended before the user picked up"));
    pickUpWaiters.delete(callId);
    endWaiters.get(callId)?.();
    endWaiters.delete(callId);
  }

  /** Ends a call on Meta's side and here; failures are logged, never thrown into a webhook handler. */
  async function terminate(callId: string, why: string): Promise<void> {
    log(`bot     terminates ${short(callId)}: ${why}`);
    await calls.terminate(callId).catch((error: unknown) => log(`bot     terminate failed: ${describe(error)}`));
    await endLocally(callId);
  }

  async function answerIncoming(callId: string, offer: string): Promise<void> {
    const peer = createEchoPeer();
    media.set(callId, peer);
    sessions.set(callId, { peer, direction: "in", accepted: false });
    let answer: string;
    try {
      answer = await withDeadline(answerCall(peer, offer), 5000, "making the WebRTC answer");
    } catch (error) {
      // The offer cannot be answered: decline the call instead of failing the webhook.
      log(`bot     cannot answer ${short(callId)} (${describe(error)}): rejecting`);
      await calls.reject(callId).catch((rejectError: unknown) => log(`bot     reject failed: ${describe(rejectError)}`));
      await endLocally(callId);
      return;
    }
    if (endedCalls.has(callId)) return void (await peer.close());
    log(`bot     answers ${short(callId)} with its own SDP answer (pre_accept, then accept)`);
    try {
      await calls.answer(callId, answer, options.recording && { recording: options.recording });
    } catch (error) {
      // answer() has already ended the call on Meta's side if accept failed after pre_accept.
      log(`bot     answering ${short(callId)} failed: ${describe(error)}`);
      await endLocally(callId);
      return;
    }
    const session = sessions.get(callId);
    if (session) session.accepted = true;
    watchMedia(callId, peer);
  }

  function watchMedia(callId: string, peer: EchoPeer): void {
    peer.connected(mediaDeadlineMs).then(
      () => log(`bot     media of ${short(callId)} is up (ICE + DTLS), echoing`),
      (error: unknown) => {
        if (!endedCalls.has(callId)) void terminate(callId, `no media: ${describe(error)}`);
      },
    );
  }

  const handler = createWebhookHandler({
    appSecret: options.appSecret,
    verifyToken: options.verifyToken,
    on: {
      "call.connect": async (event) => {
        const { callId } = event;
        if (endedCalls.has(callId)) {
          log(`bot     late connect for ${short(callId)}, which has already ended: not answered`);
          return;
        }
        const session = event.data.session;
        if (event.data.direction === "BUSINESS_INITIATED" || session?.sdp_type === "answer") {
          await Promise.all(placing);
          const placed = sessions.get(callId);
          if (!placed || !session) return void log(`bot     connect for unknown call ${short(callId)}: ignored`);
          try {
            await placed.peer.pc.setRemoteDescription({ type: "answer", sdp: session.sdp });
            log(`bot     applied the user's SDP answer for ${short(callId)}`);
            watchMedia(callId, placed.peer);
          } catch (error) {
            await terminate(callId, `the user's answer was refused by WebRTC: ${describe(error)}`);
          }
          return;
        }
        if (!session) return void log(`bot     connect without an SDP offer for ${short(callId)}: ignored`);
        log(`bot     incoming call ${short(callId)} from ${event.data.from ?? "a user"}`);
        await answerIncoming(callId, session.sdp);
      },
      "call.status": (event) => {
        log(`bot     ${short(event.callId)} is ${event.data.status}`);
        const session = sessions.get(event.callId);
        if (event.data.status === "ACCEPTED" && session) {
          session.accepted = true;
          pickUpWaiters.get(event.callId)?.resolve();
          pickUpWaiters.delete(event.callId);
        }
      },
      "call.terminate": async (event) => {
        const errors = event.errors?.map((error) => error.code).join(", ");
        log(`bot     ${short(event.callId)} ended: ${event.data.status}${errors ? ` (${errors})` : ""}`);
        await endLocally(event.callId);
      },
      "call.recording_available": (event) => {
        // Answered at once; the download runs after (the URL lives 5 minutes, then the media id gives another).
        const download = downloadMediaBytes(calls, event.media, { maxBytes: 10 * 1024 * 1024 });
        download.then(
          (bytes) => log(`bot     recording of ${short(event.callId)}: ${bytes.byteLength} bytes of ${event.media.mime_type ?? "audio"}, checksum checked`),
          (error: unknown) => log(`bot     downloading the recording of ${short(event.callId)} failed: ${describe(error)}`),
        );
        recordings.set(event.callId, download);
        recordingWaiters.get(event.callId)?.(download);
        recordingWaiters.delete(event.callId);
      },
      "call_permission.reply": (event) => {
        const reply = event.data.interactive.call_permission_reply;
        const from = String(event.data.from ?? "");
        log(`bot     ${from} answered the permission request: ${reply.response}`);
        permissionWaiters.get(from)?.(reply.response);
        permissionWaiters.delete(from);
      },
    },
    onError: (error, { event }) => log(`bot     handler error on ${event?.type ?? "a delivery"}: ${describe(error)}`),
  });

  return {
    handler,
    async requestPermission(to) {
      const answer = new Promise<string>((resolve) => permissionWaiters.set(to, resolve));
      log(`bot     asks ${to} for permission to call`);
      await calls.sendCallPermissionRequest(to, { bodyText: "May we call you about your order?" });
      return answer;
    },
    async placeCall(to) {
      const peer = createEchoPeer();
      const placed = (async () => {
        const offer = await withDeadline(offerCall(peer), 5000, "making the WebRTC offer");
        log(`bot     calls ${to}`);
        const { callId } = await calls.connect(to, offer);
        media.set(callId, peer);
        sessions.set(callId, { peer, direction: "out", accepted: false });
        return callId;
      })();
      placing.add(placed);
      let callId: string;
      try {
        callId = await placed;
      } catch (error) {
        await peer.close();
        throw error;
      } finally {
        placing.delete(placed);
      }
      await new Promise<void>((resolve, reject) => pickUpWaiters.set(callId, { resolve, reject }));
      return callId;
    },
    async hangUp(callId) {
      await terminate(callId, "the bot hangs up");
    },
    mediaOf(callId) {
      const peer = media.get(callId);
      return peer && { received: { ...peer.received }, sent: { ...peer.sent } };
    },
    ended(callId) {
      if (endedCalls.has(callId)) return Promise.resolve();
      return new Promise((resolve) => endWaiters.set(callId, resolve));
    },
    recording(callId) {
      return recordings.get(callId) ?? new Promise<Uint8Array>((resolve) => recordingWaiters.set(callId, resolve));
    },
    async close() {
      await Promise.all([...sessions.keys()].map((callId) => endLocally(callId)));
    },
  };
}

function describe(error: unknown): string {
  if (error instanceof WhatsAppError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
