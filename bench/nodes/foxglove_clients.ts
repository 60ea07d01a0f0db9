import { parentPort, workerData } from 'node:worker_threads';
import wsProtocol from '@foxglove/ws-protocol';
import type { Channel } from '@foxglove/ws-protocol';
import WebSocket from 'ws';

// Foxglove clients for bench/foxglove.bench.ts, in a thread of their own so that what they cost
// does not count against the main thread the benchmark measures: each client subscribes to every
// channel the bridge advertises, counts what it receives, and for the latency topic reads the
// publisher's wall-clock stamp (header.stamp, the first fields after the 4-byte CDR header) and
// keeps receive − stamp. The main thread asks with 'reset', 'report' and 'stop'.

export interface ClientsData {
  readonly port: number;
  readonly clients: number;
  readonly latencyTopic: string;
}

export type ClientsRequest = 'reset' | 'report' | 'stop';

export type ClientsMessage =
  | { readonly kind: 'subscribed'; readonly topics: readonly string[] }
  | {
      readonly kind: 'report';
      /** messages received per client */
      readonly received: readonly number[];
      /** publish → receive latencies of the latency topic, ms */
      readonly latenciesMs: readonly number[];
    };

const { FoxgloveClient } = wsProtocol;
const data = workerData as ClientsData;
const port = parentPort!;
const nowMs = (): number => performance.timeOrigin + performance.now();

let received: number[] = [];
let latencies: number[] = [];
const sockets: WebSocket[] = [];

for (let i = 0; i < data.clients; i++) {
  received.push(0);
  const ws = new WebSocket(`ws://127.0.0.1:${data.port}`, [FoxgloveClient.SUPPORTED_SUBPROTOCOL]);
  sockets.push(ws);
  const client = new FoxgloveClient({ ws });
  const topicOf = new Map<number, string>(); // subscription id → topic
  client.on('advertise', (channels: Channel[]) => {
    for (const c of channels) topicOf.set(client.subscribe(c.id), c.topic);
    if (i === 0) port.postMessage({ kind: 'subscribed', topics: [...topicOf.values()] } satisfies ClientsMessage);
  });
  client.on('message', (m) => {
    received[i]!++;
    if (i === 0 && topicOf.get(m.subscriptionId) === data.latencyTopic && m.data.byteLength >= 12) {
      const view = new DataView(m.data.buffer, m.data.byteOffset, m.data.byteLength);
      const sec = view.getInt32(4, true);
      const nanosec = view.getUint32(8, true);
      latencies.push(nowMs() - (sec * 1e3 + nanosec / 1e6));
    }
  });
  client.on('error', () => {});
}

port.on('message', (request: ClientsRequest) => {
  if (request === 'reset') {
    received = received.map(() => 0);
    latencies = [];
  } else if (request === 'report') {
    port.postMessage({ kind: 'report', received, latenciesMs: latencies } satisfies ClientsMessage);
  } else {
    for (const ws of sockets) ws.close();
    port.close();
  }
});
