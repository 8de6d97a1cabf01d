/// <reference types="node" />
// The sandbox's number and its users: the calls and their state machine (calls.ts), the permissions and limits
// a real number enforces, the user's side of each scene (ring, pick up, decline, grant, hang up, time out), and
// what each step sends as a webhook. Routes (routes.ts) call the business steps; the Sandbox object calls the
// user's.
import type {
  AcceptCallRequest,
  CallPermissionReply,
  CallPermissionsResponse,
  CallingSettings,
  ConnectCallRequest,
  PreAcceptCallRequest,
} from "../../../generated/openapi.js";
import { REPORTED_SETTINGS_CHANGES } from "../../../generated/operations.js";
import { validatePhoneNumber } from "../../../generated/request-validators.js";
import { defined } from "../../defined.js";
import { WhatsAppValidationError } from "../../errors.js";
import { newCallId, newMessageId, stepProblem, waIdOf, type CallEnd, type SandboxCall } from "./calls.js";
import type { Deliverer } from "./delivery.js";
import type { SandboxEvent } from "./events.js";
import { UserMediaPeer } from "./media.js";
import type { MediaStats } from "./media-stats.js";
import { DEFAULT_USER, type ResolvedOptions, type SandboxUser } from "./options.js";
import { MediaFiles } from "./media-files.js";
import {
  callCreatedWebhook,
  connectWebhook,
  permissionReplyWebhook,
  recordingWebhook,
  settingsUpdateWebhook,
  statusWebhook,
  terminateWebhook,
  transcriptionWebhook,
  voicemailWebhook,
  type BusinessIdentity,
} from "./payloads.js";
import { recordingFile, transcriptFile, voicemailFile } from "./recordings.js";
import { refusal, type Refusal } from "./refusals.js";
import { answerWarnings, checkAnswer, checkOffer, madeUpAnswer, madeUpSdp } from "./sdp.js";

export interface InboundCallOptions {
  /** The caller's phone number. */
  readonly from: string;
  /** The caller's profile name (default: the user's `name`, or none). */
  readonly name?: string;
  readonly deeplinkPayload?: string;
  readonly ctaPayload?: string;
  /**
   * Plays Meta's lack of ordering: the user hangs up at once and the terminate webhook is delivered before the
   * connect. A bot must end the call, not answer the late connect.
   */
  readonly terminateBeforeConnect?: boolean;
  /**
   * The offer's structure: `2025` (default), as real offers were captured in 2025, or `docs`, the older one of
   * Meta's documentation (extmap lines, `ufrag` on the candidate), so that a bot's SDP handling meets both.
   */
  readonly offerFormat?: "2025" | "docs";
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** The app that owns the sandbox's SIP server, as GET /settings names it. */
const SANDBOX_APP_ID = "1000000000000001";
const WEEK_S = 7 * 24 * 60 * 60;
const NO_MEDIA: MediaStats = { connected: false, connectMs: undefined, sent: { packets: 0, bytes: 0 }, received: { packets: 0, bytes: 0 } };

type Outcome<T> = T | Refusal;

export class SandboxEngine {
  readonly calls = new Map<string, SandboxCall>();
  private readonly peers = new Map<string, UserMediaPeer>();
  private readonly finalStats = new Map<string, MediaStats>();
  private readonly timers = new Map<string, Set<NodeJS.Timeout>>();
  private readonly permissions = new Map<string, { status: "temporary" | "permanent"; expiresAt?: number }>();
  private readonly permissionRequests = new Map<string, number[]>();
  private readonly connectedCalls = new Map<string, number>();
  private settings: CallingSettings = { status: "ENABLED", call_icon_visibility: "DEFAULT", callback_permission_status: "ENABLED" };
  private closed = false;
  /**
   * Meta makes one per phone number and app; the sandbox, one per run, and a new one once the server is deleted
   * (`servers: []`), as in Meta's password reset. A secret: never in the transcript.
   */
  private sipPassword = newSipPassword();
  readonly business: BusinessIdentity;
  /** The recordings and transcripts, served by the Media API routes. */
  readonly mediaFiles: MediaFiles;
  /** The sandbox's address, set once it listens (the media URLs point at it). */
  url = "";

  constructor(
    private readonly options: ResolvedOptions,
    private readonly deliverer: Deliverer,
    readonly media: boolean,
    private readonly emit: (event: SandboxEvent) => void,
  ) {
    this.mediaFiles = new MediaFiles(() => this.url, options.mediaUrlTtlMs);
    this.business = { wabaId: options.wabaId, phoneNumberId: options.phoneNumberId, displayPhoneNumber: options.displayPhoneNumber };
    for (const [user, scene] of Object.entries(options.users)) {
      if (scene.permission) this.permissions.set(user, { status: scene.permission, ...(scene.permission === "temporary" ? { expiresAt: Date.now() + WEEK_S * 1000 } : {}) });
    }
  }

  private user(waId: string): SandboxUser & typeof DEFAULT_USER {
    return { ...DEFAULT_USER, ...defined(this.options.users[waId]) };
  }

  private callState(call: SandboxCall, state: SandboxCall["state"], detail?: string): void {
    call.state = state;
    if (call.states.at(-1) !== state) call.states.push(state);
    this.emit({ kind: "call", callId: call.id, state, ...(detail === undefined ? {} : { detail }) });
  }

  private later(callId: string, ms: number, run: () => void | Promise<void>): void {
    if (this.closed) return;
    const set = this.timers.get(callId) ?? new Set();
    this.timers.set(callId, set);
    const timer = setTimeout(() => {
      set.delete(timer);
      Promise.resolve(run()).catch((error: unknown) => this.emit({ kind: "info", detail: `scene step failed: ${String(error)}` }));
    }, ms);
    timer.unref();
    set.add(timer);
  }

  private clearTimers(callId: string): void {
    for (const timer of this.timers.get(callId) ?? []) clearTimeout(timer);
    this.timers.delete(callId);
  }

  // ---- the user's side ------------------------------------------------------------------------------------

  async simulateInboundCall(options: InboundCallOptions): Promise<{ callId: string }> {
    // A phone number as the client takes one (openapi.yaml's PhoneNumber); the webhooks' wa_id is its digits.
    if (!validatePhoneNumber(options?.from)) {
      throw new WhatsAppValidationError("simulateInboundCall: from must be the caller's phone number, 6 to 15 digits, the first not 0 (e.g. 15550123456 or +1 555-012-3456)", { path: "from" });
    }
    const from = waIdOf(options.from);
    const call: SandboxCall = {
      id: newCallId(from),
      direction: "USER_INITIATED",
      user: from,
      ...((options.name ?? this.user(from).name) === undefined ? {} : { userName: options.name ?? this.user(from).name }),
      state: "ringing",
      states: ["ringing"],
      createdAt: Date.now(),
      warnings: [],
      ...(options.deeplinkPayload === undefined ? {} : { deeplinkPayload: options.deeplinkPayload }),
      ...(options.ctaPayload === undefined ? {} : { ctaPayload: options.ctaPayload }),
    };
    if (this.sipEnabled()) return this.sipCall(call);
    let offer: string;
    if (this.media) {
      const peer = await UserMediaPeer.create();
      this.peers.set(call.id, peer);
      offer = await peer.createOffer(options.offerFormat);
    } else {
      offer = madeUpSdp("actpass", "audio", 111, 126, { format: options.offerFormat });
    }
    call.offerSdp = offer;
    this.calls.set(call.id, call);
    this.callState(call, "ringing", `${from} calls ${this.business.displayPhoneNumber}`);
    const connect = connectWebhook(this.business, call, { sdp_type: "offer", sdp: offer }, call.userName, Date.now());
    if (options.terminateBeforeConnect) {
      await this.end(call, { status: "COMPLETED", reason: "the user hung up before the connect was delivered" });
      await this.deliverer.send("connect", call.id, connect);
    } else {
      await this.deliverer.send("connect", call.id, connect);
      // A TIMEOUT without timeout_seconds is off, as Meta documents.
      const voicemailAfter = this.voicemailOn("TIMEOUT")?.audio?.default?.timeout_seconds;
      this.later(call.id, voicemailAfter === undefined ? this.options.ringingTimeoutMs : voicemailAfter * 1000, () => {
        if (call.state === "ringing" || call.state === "pre_accepted") {
          if (voicemailAfter === undefined) return this.end(call, { status: "FAILED", reason: "not answered: the ringing window ended" });
          return this.toVoicemail(call, { status: "FAILED", reason: `not answered within the voicemail's ${voicemailAfter} s: the user leaves a voicemail` });
        }
      });
    }
    return { callId: call.id };
  }

  /**
   * A user calls a number with SIP enabled: Meta sends the call to the business's SIP server and tells Graph only
   * that it was attempted (`call_created`, no `session`), with no connect or terminate webhook. The sandbox does not
   * play SIP, so the call ends there for it (calling-api-2026.md §4).
   */
  private async sipCall(call: SandboxCall): Promise<{ callId: string }> {
    this.calls.set(call.id, call);
    this.callState(call, "ringing", `${call.user} calls ${this.business.displayPhoneNumber}, over SIP`);
    await this.deliverer.send("call_created", call.id, callCreatedWebhook(this.business, call, call.userName, Date.now()));
    call.end = { status: "COMPLETED", reason: "sent to the business's SIP server (SIP is enabled; the sandbox does not play SIP)" };
    call.endedAt = Date.now();
    this.callState(call, "ended", call.end.reason);
    return { callId: call.id };
  }

  /** The voicemail settings when a voicemail takes a user's call on `trigger`; undefined when none does. */
  private voicemailOn(trigger: "REJECT" | "TIMEOUT"): CallingSettings["voicemail"] {
    const voicemail = this.settings.voicemail;
    return this.settings.status !== "DISABLED" && voicemail?.status === "ENABLED" && voicemail.triggers?.includes(trigger) ? voicemail : undefined;
  }

  /**
   * Meta answers for the business, plays the announcement and records the caller; the message comes as an audio
   * message whose id is the call id, without a `url` (the Media API serves it by id). Meta documents no terminate
   * of its own for such a call, so the sandbox sends the one the call would have had without voicemail first.
   */
  private async toVoicemail(call: SandboxCall, end: CallEnd): Promise<void> {
    await this.end(call, end);
    this.later(call.id, this.options.recordingDelayMs, async () => {
      const file = await this.mediaFiles.add(voicemailFile(), "audio/ogg; codecs=opus");
      const { id, sha256, mime_type } = this.mediaFiles.webhookMedia(file);
      this.emit({ kind: "media", callId: call.id, detail: `voicemail ${file.id}: ${file.bytes.byteLength} bytes, one second of the user's tone` });
      await this.deliverer.send("voicemail", call.id, voicemailWebhook(this.business, call, { id, sha256, mime_type }, Date.now()));
    });
  }

  private sipEnabled(): boolean {
    return this.settings.sip?.status === "ENABLED";
  }

  /** While SIP is enabled, Graph's /calls refuses every action (openapi.yaml, `calling.sip`). */
  sipRefusal(): Refusal | undefined {
    return this.sipEnabled() ? refusal(131055, "Graph API calling is not allowed on a number configured for SIP: disable calling.sip to use /calls") : undefined;
  }

  async hangUp(callId: string): Promise<void> {
    const call = this.knownCall(callId);
    if (call.state === "ended") return;
    await this.end(call, { status: "COMPLETED", reason: "the user hung up" });
  }

  /** The user's client gives up waiting for media now: the call ends FAILED with 138021. */
  async simulateMediaTimeout(callId: string): Promise<void> {
    const call = this.knownCall(callId);
    if (call.state === "ended") return;
    await this.end(call, mediaTimeoutEnd());
  }

  private knownCall(callId: string): SandboxCall {
    const call = this.calls.get(callId);
    if (!call) throw new WhatsAppValidationError(`the sandbox has no call ${callId}`, { path: "callId" });
    return call;
  }

  mediaStats(callId: string): MediaStats {
    this.knownCall(callId);
    return this.finalStats.get(callId) ?? this.peers.get(callId)?.stats() ?? NO_MEDIA;
  }

  private async end(call: SandboxCall, end: CallEnd): Promise<void> {
    if (call.state === "ended") return;
    call.end = end;
    call.endedAt = Date.now();
    this.clearTimers(call.id);
    this.callState(call, "ended", `${end.status}, ${end.reason}${end.errorCode ? ` (${end.errorCode})` : ""}`);
    const peer = this.peers.get(call.id);
    const audio = peer?.recordedAudio();
    if (peer) {
      this.finalStats.set(call.id, peer.stats());
      this.peers.delete(call.id);
      await peer.close();
    }
    await this.deliverer.send("terminate", call.id, terminateWebhook(this.business, call, end, call.userName, call.endedAt));
    if (call.acceptedAt !== undefined && (call.recorded || call.transcribed)) {
      this.later(call.id, this.options.recordingDelayMs, () => this.deliverRecordings(call, audio));
    }
  }

  /** After a call that asked for them: its recording and its transcript, each a media file with its webhook. */
  private async deliverRecordings(call: SandboxCall, audio: Uint8Array[] | undefined): Promise<void> {
    const seconds = (call.endedAt! - call.acceptedAt!) / 1000;
    if (call.recorded) {
      const file = await this.mediaFiles.add(recordingFile(audio, seconds), "audio/ogg; codecs=opus");
      this.emit({ kind: "media", callId: call.id, detail: `recording ${file.id}: ${file.bytes.byteLength} bytes${audio?.length ? `, ${audio.length} packets from the bot` : ", silence"}` });
      await this.deliverer.send("call_recording_available", call.id, recordingWebhook(this.business, call, this.mediaFiles.webhookMedia(file), Date.now()));
    }
    if (call.transcribed) {
      const document = new TextEncoder().encode(JSON.stringify(transcriptFile(seconds, this.user(call.user).says)));
      const file = await this.mediaFiles.add(document, "application/json");
      this.emit({ kind: "media", callId: call.id, detail: `transcript ${file.id}: ${file.bytes.byteLength} bytes` });
      await this.deliverer.send("call_transcription_available", call.id, transcriptionWebhook(this.business, call, this.mediaFiles.webhookMedia(file), Date.now()));
    }
  }

  /** After the answer: the user talks, and ends the call with 138021 if the bot's media never arrives. */
  private startMedia(call: SandboxCall): void {
    const peer = this.peers.get(call.id);
    if (!peer) return;
    peer.startAudio();
    void peer.connected.then(() => {
      const stats = peer.stats();
      this.emit({ kind: "media", callId: call.id, detail: `ICE + DTLS connected in ${stats.connectMs} ms` });
    });
    let received = false;
    void peer.firstPacketReceived.then(() => {
      received = true;
      if (call.state === "ended") return;
      this.emit({ kind: "media", callId: call.id, detail: "first audio packet from the bot" });
      this.watchSilence(call, peer);
    });
    this.later(call.id, this.options.mediaTimeoutMs, () => {
      if (!received && call.state !== "ended") return this.end(call, mediaTimeoutEnd());
    });
  }

  /** Mid-call, the user's client hangs up after `silenceTimeoutMs` without a packet from the bot (Meta: 30 s). */
  private watchSilence(call: SandboxCall, peer: UserMediaPeer): void {
    const check = () => {
      if (call.state === "ended") return;
      const silentFor = Date.now() - peer.lastReceivedAt;
      if (silentFor >= this.options.silenceTimeoutMs) {
        return this.end(call, { ...mediaTimeoutEnd(), reason: `no media from the bot for ${Math.round(silentFor / 1000)} s mid-call` });
      }
      this.later(call.id, Math.min(1000, this.options.silenceTimeoutMs - silentFor + 10), check);
    };
    this.later(call.id, this.options.silenceTimeoutMs, check);
  }

  // ---- the business's steps (Graph API) ---------------------------------------------------------------

  private callingDisabled(): Refusal | undefined {
    return this.settings.status === "DISABLED" ? refusal(138000, "Calling is disabled on this phone number") : undefined;
  }

  private lookup(callId: string): SandboxCall | Refusal {
    return this.calls.get(callId) ?? refusal(100, `Invalid call_id: no call ${callId} on this phone number`, "Invalid parameter");
  }

  async preAccept(body: PreAcceptCallRequest): Promise<Outcome<{ success: true }>> {
    return this.answerStep(body, "pre_accept");
  }

  async accept(body: AcceptCallRequest): Promise<Outcome<{ success: true }>> {
    return this.answerStep(body, "accept");
  }

  private async answerStep(body: PreAcceptCallRequest | AcceptCallRequest, step: "pre_accept" | "accept"): Promise<Outcome<{ success: true }>> {
    const call = this.lookup(body.call_id);
    if ("status" in call) return call;
    const problem = this.callingDisabled() ?? stepRefusal(call, step);
    if (problem) return problem;
    const sdp = body.session.sdp;
    if (call.answerSdp !== undefined && sdp !== call.answerSdp) {
      return refusal(
        100,
        step === "accept"
          ? "SDP answer provided in accept does not match the SDP answer given in the Pre-Accept endpoint"
          : "SDP answer provided in pre_accept does not match the SDP answer given before for this call",
        "Invalid parameter",
      );
    }
    if (call.answerSdp === undefined) {
      const invalid = checkAnswer(sdp, call.offerSdp ?? "");
      if (invalid) return refusal(100, invalid, "Invalid parameter");
      const peer = this.peers.get(call.id);
      const rejected = peer ? await peer.applyAnswer(sdp) : undefined;
      if (rejected) return refusal(100, rejected, "Invalid parameter");
      call.answerSdp = sdp;
      call.warnings.push(...answerWarnings(sdp, call.offerSdp ?? ""));
      for (const warning of call.warnings) this.emit({ kind: "media", callId: call.id, detail: `warning: ${warning}` });
    }
    if (step === "pre_accept") {
      if (call.state !== "pre_accepted") this.callState(call, "pre_accepted");
      return { success: true };
    }
    if ("biz_opaque_callback_data" in body && body.biz_opaque_callback_data !== undefined) {
      call.bizOpaqueCallbackData = body.biz_opaque_callback_data;
    }
    noteRecording(call, body as AcceptCallRequest);
    const recordingPeer = this.peers.get(call.id);
    if (recordingPeer) recordingPeer.recording = call.recorded === true;
    if (call.state !== "accepted") {
      if ((this.peers.get(call.id)?.stats().received.packets ?? 0) > 0) {
        // WhatsApp treats the call as answered on the first media packet or on accept, whichever comes first.
        const warning = "the bot sent media before accept: the caller's timer started at its first packet";
        call.warnings.push(warning);
        this.emit({ kind: "media", callId: call.id, detail: `warning: ${warning}` });
      }
      call.acceptedAt = Date.now();
      this.callState(call, "accepted", "the call is live");
      this.startMedia(call);
    }
    return { success: true };
  }

  async reject(callId: string): Promise<Outcome<{ success: true }>> {
    const call = this.lookup(callId);
    if ("status" in call) return call;
    const problem = stepRefusal(call, "reject");
    if (problem) return problem;
    const end: CallEnd = { status: "REJECTED", reason: "rejected by the business" };
    if (call.direction === "USER_INITIATED" && this.voicemailOn("REJECT")) {
      await this.toVoicemail(call, { ...end, reason: `${end.reason}: the user leaves a voicemail` });
    } else {
      await this.end(call, end);
    }
    return { success: true };
  }

  async terminate(callId: string): Promise<Outcome<{ success: true }>> {
    const call = this.lookup(callId);
    if ("status" in call) return call;
    const problem = stepRefusal(call, "terminate");
    if (problem) return problem;
    await this.end(call, { status: "COMPLETED", reason: "terminated by the business" });
    return { success: true };
  }

  private hasPermission(user: string): boolean {
    const permission = this.permissions.get(user);
    if (!permission) return false;
    if (permission.expiresAt !== undefined && permission.expiresAt <= Date.now()) {
      this.permissions.delete(user);
      return false;
    }
    return true;
  }

  private connectedToday(user: string): number {
    return this.user(user).connectedCallsToday + (this.connectedCalls.get(user) ?? 0);
  }

  async connect(body: ConnectCallRequest): Promise<Outcome<{ callId: string }>> {
    const user = body.to !== undefined ? waIdOf(body.to) : (body.recipient ?? "");
    const disabled = this.callingDisabled();
    if (disabled) return disabled;
    const invalid = checkOffer(body.session.sdp);
    if (invalid) return refusal(100, invalid, "Invalid parameter");
    if (!this.hasPermission(user)) {
      return refusal(138006, `${user} has not granted call permission: send a call-permission request first`);
    }
    if ([...this.calls.values()].some((call) => call.user === user && call.state !== "ended")) {
      return refusal(138003, `A call with ${user} is already ongoing`);
    }
    if (this.connectedToday(user) >= this.options.businessInitiatedCallLimit) {
      const next = Math.floor((Date.now() + DAY_MS) / 1000);
      return refusal(138012, `Limit of ${this.options.businessInitiatedCallLimit} connected business-initiated calls in 24 hours reached for ${user}; the next call is allowed at ${next}`);
    }
    const call: SandboxCall = {
      id: newCallId(user),
      direction: "BUSINESS_INITIATED",
      user,
      ...(this.user(user).name === undefined ? {} : { userName: this.user(user).name }),
      state: "ringing",
      states: ["ringing"],
      createdAt: Date.now(),
      offerSdp: body.session.sdp,
      warnings: [],
      ...(body.biz_opaque_callback_data === undefined ? {} : { bizOpaqueCallbackData: body.biz_opaque_callback_data }),
    };
    noteRecording(call, body);
    this.calls.set(call.id, call);
    this.callState(call, "ringing", `${this.business.displayPhoneNumber} calls ${user}`);
    // Meta answers the request first and sends the webhooks after; a short pause lets the bot record the call id.
    this.later(call.id, 100, () => this.ringUser(call));
    return { callId: call.id };
  }

  private async ringUser(call: SandboxCall): Promise<void> {
    const scene = this.user(call.user);
    let answer: string;
    if (this.media) {
      const peer = await UserMediaPeer.create();
      peer.recording = call.recorded === true;
      this.peers.set(call.id, peer);
      try {
        answer = await peer.answerOffer(call.offerSdp!);
      } catch (error) {
        await this.end(call, { status: "FAILED", reason: `the user's WebRTC peer refused the offer: ${String(error)}`, errorCode: 138019 });
        return;
      }
    } else {
      answer = madeUpAnswer(call.offerSdp!, true);
    }
    if (call.state === "ended") return;
    call.answerSdp = answer;
    await this.deliverer.send("connect", call.id, connectWebhook(this.business, call, { sdp_type: "answer", sdp: answer }, call.userName, Date.now()));
    await this.deliverer.send("status RINGING", call.id, statusWebhook(this.business, call, "RINGING", Date.now()));
    this.later(call.id, this.options.ringingTimeoutMs, () => {
      if (call.state === "ringing") return this.end(call, { status: "FAILED", reason: "not answered: the ringing window ended" });
    });
    if (scene.pickUp === "ignore") return;
    this.later(call.id, scene.pickUpDelayMs, async () => {
      if (call.state !== "ringing") return;
      if (scene.pickUp === "decline") {
        await this.deliverer.send("status REJECTED", call.id, statusWebhook(this.business, call, "REJECTED", Date.now()));
        await this.end(call, { status: "REJECTED", reason: "the user declined" });
        return;
      }
      call.acceptedAt = Date.now();
      this.connectedCalls.set(call.user, (this.connectedCalls.get(call.user) ?? 0) + 1);
      this.callState(call, "accepted", "the user picked up");
      this.startMedia(call);
      await this.deliverer.send("status ACCEPTED", call.id, statusWebhook(this.business, call, "ACCEPTED", Date.now()));
    });
  }

  permissionOf(user: string): CallPermissionsResponse {
    const granted = this.hasPermission(user) ? this.permissions.get(user) : undefined;
    const requests = this.recentRequests(user);
    const usedToday = this.connectedToday(user);
    const limit = this.options.businessInitiatedCallLimit;
    return {
      messaging_product: "whatsapp",
      permission: granted
        ? { status: granted.status, ...(granted.expiresAt === undefined ? {} : { expiration_time: Math.floor(granted.expiresAt / 1000) }) }
        : { status: "no_permission" },
      actions: [
        {
          action_name: "send_call_permission_request",
          can_perform_action: granted?.status !== "permanent" && requests.day < 1 && requests.week < 2,
          limits: [
            { time_period: "PT24H", max_allowed: 1, current_usage: requests.day },
            { time_period: "P7D", max_allowed: 2, current_usage: requests.week },
          ],
        },
        {
          action_name: "start_call",
          can_perform_action: granted !== undefined && usedToday < limit,
          limits: [{ time_period: "PT24H", max_allowed: limit, current_usage: Math.min(usedToday, limit) }],
        },
      ],
    };
  }

  private recentRequests(user: string): { day: number; week: number } {
    const now = Date.now();
    const times = this.permissionRequests.get(user) ?? [];
    return { day: times.filter((at) => now - at < DAY_MS).length, week: times.filter((at) => now - at < 7 * DAY_MS).length };
  }

  /** A call-permission request arrived: the user answers as the scene says. */
  /** `user`: the wa_id (digits) or BSUID the request names. */
  async permissionRequest(user: string): Promise<Outcome<{ messageId: string; waId: string }>> {
    if (this.permissions.get(user)?.status === "permanent") {
      return refusal(138017, `${user} has already granted permanent call permission`);
    }
    const requests = this.recentRequests(user);
    if (requests.day >= 1 || requests.week >= 2) {
      return refusal(138009, `Call-permission request limit reached for ${user} (1 per 24 hours, 2 per 7 days)`);
    }
    this.permissionRequests.set(user, [...(this.permissionRequests.get(user) ?? []), Date.now()]);
    const requestId = newMessageId(user);
    const scene = this.user(user);
    if (scene.permissionReply !== "ignore") {
      this.later(`permission:${user}`, 150, async () => {
        const now = Date.now();
        let reply: CallPermissionReply;
        if (scene.permissionReply === "reject") {
          this.permissions.delete(user);
          reply = { response: "reject", is_permanent: false, response_source: "user_action" };
        } else if (scene.permissionReply === "accept-permanent") {
          this.permissions.set(user, { status: "permanent" });
          reply = { response: "accept", is_permanent: true, response_source: "user_action" };
        } else {
          const expiresAt = now + WEEK_S * 1000;
          this.permissions.set(user, { status: "temporary", expiresAt });
          reply = { response: "accept", is_permanent: false, expiration_timestamp: String(Math.floor(expiresAt / 1000)), response_source: "user_action" };
        }
        this.emit({ kind: "info", detail: `${user} answers the call-permission request: ${reply.response}${reply.is_permanent ? " (permanent)" : ""}` });
        await this.deliverer.send("call_permission_reply", undefined, permissionReplyWebhook(this.business, user, scene.name, newMessageId(user), requestId, reply, now));
      });
    }
    return { messageId: requestId, waId: user };
  }

  /**
   * The settings as GET answers them: each SIP server with its app and port (5061 when none was set), and its
   * password only with `include_sip_credentials=true`, as Meta does.
   */
  getSettings(options: { sipCredentials?: boolean } = {}): CallingSettings {
    const settings = structuredClone(this.settings);
    if (settings.sip?.servers) {
      settings.sip.servers = settings.sip.servers.map((server) => ({
        app_id: SANDBOX_APP_ID,
        ...server,
        port: server.port ?? 5061,
        ...(options.sipCredentials ? { sip_user_password: this.sipPassword } : {}),
      }));
    }
    return settings;
  }

  /**
   * Meta reports a change of the settings it lists (REPORTED_SETTINGS_CHANGES: status, icon visibility, callback
   * permission, SIP status, SRTP key exchange), the business's own included, and no other change.
   */
  async updateSettings(calling: CallingSettings): Promise<void> {
    const update = structuredClone(calling);
    // Disabling SIP keeps its servers, and enabling it again reuses them (the SIP guide).
    if (update.sip && update.sip.servers === undefined && this.settings.sip?.servers) update.sip.servers = this.settings.sip.servers;
    if (update.sip?.servers?.length === 0) this.sipPassword = newSipPassword();
    const before = this.settings;
    this.settings = { ...this.settings, ...update };
    const reported = REPORTED_SETTINGS_CHANGES.some((name) => JSON.stringify(settingAt(before, name)) !== JSON.stringify(settingAt(this.settings, name)));
    if (reported) await this.deliverer.send("account_settings_update", undefined, settingsUpdateWebhook(this.business, this.getSettings(), Date.now()));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const callId of [...this.timers.keys()]) this.clearTimers(callId);
    await Promise.all(
      [...this.peers].map(async ([callId, peer]) => {
        this.finalStats.set(callId, peer.stats());
        await peer.close();
      }),
    );
    this.peers.clear();
  }
}

function stepRefusal(call: SandboxCall, step: "pre_accept" | "accept" | "reject" | "terminate"): Refusal | undefined {
  const problem = stepProblem(call, step);
  return problem === undefined ? undefined : refusal(100, problem, "Invalid parameter");
}

function mediaTimeoutEnd(): CallEnd {
  return {
    status: "FAILED",
    reason: "the WhatsApp client received no media",
    errorCode: 138021,
    errorDetails: "WhatsApp client terminated the call due to not receiving any media for a long time.",
  };
}

/** What accept or connect asked for (`ENABLED` or `DISABLED`); a request without the object changes nothing. */
function noteRecording(call: SandboxCall, body: Pick<AcceptCallRequest, "recording" | "transcription">): void {
  if (body.recording) call.recorded = body.recording.status === "ENABLED";
  if (body.transcription) call.transcribed = body.transcription.status === "ENABLED";
}

function newSipPassword(): string {
  return `sandbox-sip-${crypto.randomUUID()}`;
}

/** The value of a setting by its dotted name (`sip.status`). */
function settingAt(settings: CallingSettings, name: string): unknown {
  return name.split(".").reduce<unknown>((node, key) => (node !== null && typeof node === "object" ? (node as Record<string, unknown>)[key] : undefined), settings);
}
