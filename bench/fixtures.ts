// Inputs of the benchmarks: the webhook fixtures as their exact bytes, and a batched delivery of 1,000 updates
// (Meta batches up to 1,000) built from them.
import { fixtureBytes, fixtureJson } from "../test/helpers/fixtures.js";
import { deliveryFixtures } from "../test/webhooks/helpers.js";

/** The webhook deliveries of the shared fixtures (the same list the webhook tests use). */
export const WEBHOOK_FIXTURES = deliveryFixtures;

export function webhookFixture(name: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(fixtureBytes(name));
}

/**
 * One delivery with `count` changes in one entry, cycling through connect, status, terminate and permission-reply
 * changes of the fixtures, each with its own call or message id so that nothing is a duplicate.
 */
export function batchedDelivery(count: number): Uint8Array<ArrayBuffer> {
  const sources = [
    "webhooks/calls.connect.user-initiated.json",
    "webhooks/calls.status.ringing.json",
    "webhooks/calls.terminate.completed.user-initiated.json",
    "webhooks/messages.call_permission_reply.accept-temporary.json",
  ].map((name) => fixtureJson(name));
  const first = sources[0];
  const changes = Array.from({ length: count }, (_, index) => {
    const change = structuredClone(sources[index % sources.length].entry[0].changes[0]);
    for (const item of [...(change.value.calls ?? []), ...(change.value.statuses ?? [])]) item.id = `wacid.bench-${index}`;
    for (const message of change.value.messages ?? []) message.id = `wamid.bench-${index}`;
    return change;
  });
  const delivery = { object: first.object, entry: [{ id: first.entry[0].id, changes }] };
  return new TextEncoder().encode(JSON.stringify(delivery));
}
