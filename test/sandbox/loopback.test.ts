// A call with real media stays on 127.0.0.1: no name is looked up and no UDP datagram leaves loopback, for the
// sandbox's user (ICE-lite), the tests' bot peer (a full ICE agent) and the echo bot of examples/ alike. werift
// asks stun.l.google.com when no STUN server is configured, `iceServers: []` included, so this is checked on
// what the peers do, not on their options. The checks wrap node:dns and dgram in this process, where the peers run.
import dgram from "node:dgram";
import dns from "node:dns";
import { isIP } from "node:net";
import { afterEach, beforeEach, expect, it } from "vitest";
import { answerCall, createEchoPeer } from "../../examples/echo-bot/media.js";
import { createCallingClient } from "../../src/index.js";
import { startSandbox, type Sandbox } from "../../src/testing/index.js";
import { APP_SECRET, answerOffer, botPeer, isEvent, startReceiver, type Receiver } from "./helpers.js";

const USER = "15550123456";
const lookups: string[] = [];
const destinations = new Set<string>();
const original = { lookup: dns.lookup, promisesLookup: dns.promises.lookup, send: dgram.Socket.prototype.send };
let receiver: Receiver;
let sandbox: Sandbox;

beforeEach(async () => {
  lookups.length = 0;
  destinations.clear();
  dns.lookup = ((hostname: string, ...rest: unknown[]) => {
    if (isIP(hostname) === 0) lookups.push(hostname);
    return (original.lookup as (...args: unknown[]) => unknown)(hostname, ...rest);
  }) as typeof dns.lookup;
  dns.promises.lookup = ((hostname: string, ...rest: unknown[]) => {
    // werift "looks up" every address it sends STUN to, IP literals included: only a name goes to a resolver.
    if (isIP(hostname) === 0) lookups.push(hostname);
    return (original.promisesLookup as (...args: unknown[]) => unknown)(hostname, ...rest);
  }) as typeof dns.promises.lookup;
  dgram.Socket.prototype.send = function (this: dgram.Socket, ...args: unknown[]) {
    // send(msg, [offset, length,] port, address, callback?): the address is the one string argument.
    const address = args.slice(1).find((arg) => typeof arg === "string");
    destinations.add(typeof address === "string" ? address : "(connected socket)");
    return (original.send as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof dgram.Socket.prototype.send;
  receiver = await startReceiver();
  sandbox = await startSandbox({ webhookUrl: receiver.url, appSecret: APP_SECRET, media: true });
});

afterEach(async () => {
  await sandbox.close();
  await receiver.close();
  dns.lookup = original.lookup;
  dns.promises.lookup = original.promisesLookup;
  dgram.Socket.prototype.send = original.send;
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
    // Connected both ways: the bot's packets reached the user's peer.
    expect((await sandbox.waitForMedia(callId, { packets: 5 })).connected).toBe(true);
    await sandbox.hangUp(callId);
  } finally {
    await bot.close();
  }
  expect(lookups).toEqual([]);
  expect([...destinations]).toEqual(["127.0.0.1"]);
});
