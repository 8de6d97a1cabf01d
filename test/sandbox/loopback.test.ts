// A call with real media stays on 127.0.0.1, for the sandbox's user (ICE-lite), the tests' bot peer (a full ICE
// agent) and the echo bot of examples/ alike. werift asks stun.l.google.com when no STUN server is configured,
// `iceServers: []` included, so this is checked on what the peers do, not on their options: by the record of
// test/helpers/loopback-only.ts (the setup file that fails any test leaving loopback), asserted here by name.
import { afterEach, beforeEach, expect, it } from "vitest";
import { answerCall, createEchoPeer } from "../../examples/echo-bot/media.js";
import { createCallingClient } from "../../src/index.js";
import { startSandbox, type Sandbox } from "../../src/testing/index.js";
import { leftLoopback } from "../helpers/loopback-only.js";
import { APP_SECRET, answerOffer, botPeer, isEvent, startReceiver, type Receiver } from "./helpers.js";

const USER = "15550123456";
let receiver: Receiver;
let sandbox: Sandbox;

beforeEach(async () => {
  receiver = await startReceiver();
  sandbox = await startSandbox({ webhookUrl: receiver.url, appSecret: APP_SECRET, media: true });
});

afterEach(async () => {
  await sandbox.close();
  await receiver.close();
});

const bots = {
  "the tests' bot peer": async (offer: string) => {
    const peer = botPeer();
    return { answer: await answerOffer(peer, offer), close: () => peer.close() };
  },
  "the echo bot of examples/": async (offer: string) => {
    const peer = createEchoPeer();
    return { answer: await answerCall(peer, offer), close: () => peer.close() };
  },
};

it.each(Object.entries(bots))("a call answered by %s sends media on 127.0.0.1 only and looks up no name", async (_name, makeBot) => {
  const calls = createCallingClient({ baseUrl: sandbox.url, accessToken: sandbox.accessToken, phoneNumberId: sandbox.phoneNumberId, retry: false });
  const { callId } = await sandbox.simulateInboundCall({ from: USER });
  const connect = await receiver.next(isEvent("connect", callId));
  const bot = await makeBot(connect.item.session.sdp);
  try {
    await calls.answer(callId, bot.answer);
    // Connected both ways: the bot's packets reached the user's peer, over loopback.
    expect((await sandbox.waitForMedia(callId, { packets: 5 })).connected).toBe(true);
    await sandbox.hangUp(callId);
  } finally {
    await bot.close();
  }
  expect(leftLoopback()).toEqual([]);
});
