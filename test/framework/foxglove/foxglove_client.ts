import wsProtocol from '@foxglove/ws-protocol';
import type {
  Channel,
  ConnectionGraphUpdate,
  MessageData,
  ParameterValues,
  ServerInfo,
  StatusMessage,
} from '@foxglove/ws-protocol';
import WebSocket from 'ws';
import { until } from '../../wait.js';

// A Foxglove client for tests: @foxglove/ws-protocol's own FoxgloveClient over a real `ws`
// WebSocket, with everything the server sends collected for the test to wait on.

const { FoxgloveClient } = wsProtocol;

export class TestClient {
  readonly channels = new Map<number, Channel>();
  readonly unadvertised: number[] = [];
  readonly statuses: StatusMessage[] = [];
  readonly messages: MessageData[] = [];
  readonly times: bigint[] = [];
  readonly parameterValues: ParameterValues[] = [];
  readonly graph: ConnectionGraphUpdate[] = [];
  serverInfo: ServerInfo | undefined;
  closed = false;
  readonly client: InstanceType<typeof FoxgloveClient>;

  private constructor(readonly ws: WebSocket) {
    this.client = new FoxgloveClient({ ws });
    this.client.on('serverInfo', (m) => (this.serverInfo = m));
    this.client.on('status', (m) => this.statuses.push(m));
    this.client.on('advertise', (cs) => cs.forEach((c) => this.channels.set(c.id, c)));
    this.client.on('unadvertise', (ids) =>
      ids.forEach((id) => {
        this.channels.delete(id);
        this.unadvertised.push(id);
      }),
    );
    this.client.on('message', (m) => this.messages.push(m));
    this.client.on('time', (m) => this.times.push(m.timestamp));
    this.client.on('parameterValues', (m) => this.parameterValues.push(m));
    this.client.on('connectionGraphUpdate', (m) => this.graph.push(m));
    this.client.on('close', () => (this.closed = true));
    this.client.on('error', () => {}); // a refused connection shows as close
  }

  /** Connect and wait for the server's serverInfo. */
  static async connect(port: number): Promise<TestClient> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`, [FoxgloveClient.SUPPORTED_SUBPROTOCOL]);
    const c = new TestClient(ws);
    await until('the serverInfo message', () => c.serverInfo !== undefined || c.closed);
    if (!c.serverInfo) throw new Error('the server closed the connection before its serverInfo');
    return c;
  }

  /** The channel of a topic, once advertised. */
  async channel(topic: string): Promise<Channel> {
    let found: Channel | undefined;
    await until(
      `the channel of ${topic}`,
      () => (found = [...this.channels.values()].find((c) => c.topic === topic)) !== undefined,
      { seen: () => [...this.channels.values()].map((c) => c.topic).join(', ') },
    );
    return found!;
  }

  /** The messages of one subscription, as byte views. */
  payloads(subscriptionId: number): Uint8Array[] {
    return this.messages
      .filter((m) => m.subscriptionId === subscriptionId)
      .map((m) => new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength));
  }

  async statusMatching(pattern: RegExp): Promise<StatusMessage> {
    let found: StatusMessage | undefined;
    await until(
      `a status message matching ${pattern}`,
      () => (found = this.statuses.find((s) => pattern.test(s.message))) !== undefined,
      {
        seen: () => this.statuses.map((s) => s.message).join(' | '),
      },
    );
    return found!;
  }

  close(): void {
    this.ws.terminate();
  }
}
