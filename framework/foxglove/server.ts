import type { AddressInfo } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Channel, ClientChannel, Parameter, ServerMessage } from '@foxglove/ws-protocol';
import type { Logger } from '../../src/util/log.js';
import { ConnectionGraph, type GraphTopic } from './connection_graph.js';
import {
  Level,
  SUBPROTOCOL,
  jsonFrame,
  messageDataFrame,
  parseClientBinary,
  parseClientText,
  requiredCapability,
  timeFrame,
  type Capability,
  type ClientBinary,
  type ClientRequest,
} from './protocol.js';
import { SendQueue } from './send_queue.js';

// A Foxglove WebSocket server (protocol v1, ./protocol.ts) on the `ws` library: channels the
// owner adds and removes, per-client subscriptions, message data and time sent through each
// client's bounded queue (./send_queue.ts), and the client's requests handed to the owner (the
// bridge, ./bridge.ts) through `ServerHandlers`. @foxglove/ws-protocol's own FoxgloveServer is
// not used: it writes every message straight to every socket (no per-client bound), does not
// implement connectionGraph (the op falls to "Unrecognized client opcode"), drops requests for an
// undeclared capability silently, and reports bad input on one server-wide 'error' event that
// does not say which client sent it, so the client cannot be told. Here every bad request is
// answered to its client with a status message (spec "Status"), and nothing a client sends can
// throw out of the socket's event handlers; a frame over `maxIncomingBytes` is refused by ws,
// which closes that connection with 1009 (Message Too Big).

/** One connected client, as the owner sees it. */
export interface ClientHandle {
  readonly id: number;
  readonly name: string;
}

/** What the owner does for the server; a returned string is a refusal, sent to the client as a status. */
export interface ServerHandlers {
  /** a client subscribed to a channel; `first`: no other client is, start its messages */
  subscribe(channelId: number, client: ClientHandle, first: boolean): void;
  /** the last subscription to a channel went: stop its messages */
  unsubscribe(channelId: number): void;
  /** a client advertised a channel to publish on (clientPublish) */
  clientAdvertise(client: ClientHandle, channel: ClientChannel): string | undefined;
  clientUnadvertise(client: ClientHandle, channelId: number): void;
  /** a message on a channel the client advertised */
  clientMessage(client: ClientHandle, channelId: number, payload: Uint8Array): string | undefined;
  /** the parameters with these names (all when none are named) */
  getParameters(names: readonly string[]): Promise<Parameter[]>;
  /** set parameters: a refusal, or undefined when they were set */
  setParameters(parameters: readonly Parameter[]): string | undefined;
}

export interface ServerOptions {
  readonly name: string;
  readonly address: string;
  /** 0: an ephemeral port (see `port`) */
  readonly port: number;
  readonly capabilities: readonly Capability[];
  /** encodings clients may publish in (spec "Server Info": only with clientPublish or services) */
  readonly supportedEncodings?: readonly string[];
  readonly sendBufferLimitBytes: number;
  readonly messageBacklog: number;
  /** a client frame larger than this closes its connection (ws maxPayload) */
  readonly maxIncomingBytes: number;
  readonly logger: Logger;
}

/** Per-client figures. */
export interface ClientStats {
  readonly name: string;
  readonly subscriptions: number;
  /** data frames dropped (oldest first) because the client fell behind */
  readonly dropped: number;
  readonly sent: number;
  readonly queued: number;
  readonly queuedBytes: number;
  /** what the socket holds unwritten (ws bufferedAmount) */
  readonly bufferedBytes: number;
  /** requests and messages refused with a status message */
  readonly refused: number;
}

class Client implements ClientHandle {
  readonly subscriptions = new Map<number, number>(); // subscription id → channel id
  readonly byChannel = new Map<number, number>(); // channel id → subscription id
  readonly advertised = new Set<number>(); // client channel ids
  graph = false;
  refused = 0;
  readonly queue: SendQueue;
  constructor(
    readonly id: number,
    readonly name: string,
    readonly socket: WebSocket,
    options: ServerOptions,
    onOverflow: () => void,
  ) {
    this.queue = new SendQueue(socket, {
      limitBytes: options.sendBufferLimitBytes,
      backlog: options.messageBacklog,
      onOverflow,
    });
  }
}

export class FoxgloveWebSocketServer {
  readonly #wss: WebSocketServer;
  readonly #options: ServerOptions;
  readonly #handlers: ServerHandlers;
  readonly #log: Logger;
  readonly #clients = new Set<Client>();
  readonly #channels = new Map<number, Channel>();
  readonly #graph = new ConnectionGraph();
  readonly #sessionId = String(Date.now());
  #nextChannelId = 1;
  #nextClientId = 1;
  #closed = false;
  readonly #port: number;
  /** clients that connected, over the server's life */
  connections = 0;
  /** data frames dropped for clients that have gone, so totals survive them */
  #droppedGone = 0;

  private constructor(wss: WebSocketServer, options: ServerOptions, handlers: ServerHandlers) {
    this.#wss = wss;
    this.#options = options;
    this.#handlers = handlers;
    this.#log = options.logger;
    this.#port = (wss.address() as AddressInfo).port;
    wss.on('connection', (socket, request) =>
      this.#accept(socket, `${request.socket.remoteAddress ?? '?'}:${request.socket.remotePort ?? '?'}`),
    );
    wss.on('error', (err) => this.#log.error(`foxglove server: ${err.message}`));
  }

  /** Listen on address:port; rejects with one line when it cannot (port taken, bad address). */
  static listen(options: ServerOptions, handlers: ServerHandlers): Promise<FoxgloveWebSocketServer> {
    return new Promise((resolve, reject) => {
      const wss = new WebSocketServer({
        host: options.address,
        port: options.port,
        maxPayload: options.maxIncomingBytes,
        perMessageDeflate: false,
        clientTracking: false,
        handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
      });
      const failed = (err: Error): void => {
        wss.close();
        reject(new Error(`foxglove server: cannot listen on ${options.address}:${options.port}: ${err.message}`));
      };
      wss.once('error', failed);
      wss.once('listening', () => {
        wss.off('error', failed);
        resolve(new FoxgloveWebSocketServer(wss, options, handlers));
      });
    });
  }

  /** the port the server listens on (the one chosen when asked for 0) */
  get port(): number {
    return this.#port;
  }

  get capabilities(): readonly Capability[] {
    return this.#options.capabilities;
  }

  /** Offer a channel to every client; returns its id (never reused). */
  addChannel(channel: Omit<Channel, 'id'>): number {
    const id = this.#nextChannelId++;
    const full: Channel = { ...channel, id };
    this.#channels.set(id, full);
    for (const c of this.#clients) this.#send(c, { op: 'advertise', channels: [full] });
    return id;
  }

  /** Withdraw a channel: its subscriptions end (the owner stops its messages itself). */
  removeChannel(id: number): void {
    if (!this.#channels.delete(id)) return;
    for (const c of this.#clients) {
      const sub = c.byChannel.get(id);
      if (sub !== undefined) {
        c.byChannel.delete(id);
        c.subscriptions.delete(sub);
      }
      this.#send(c, { op: 'unadvertise', channelIds: [id] });
    }
  }

  /** whether some client subscribes to the channel */
  subscribed(channelId: number): boolean {
    for (const c of this.#clients) if (c.byChannel.has(channelId)) return true;
    return false;
  }

  /** A message to every client subscribed to the channel. */
  sendMessage(channelId: number, timestampNs: bigint, payload: Uint8Array): void {
    for (const c of this.#clients) this.#sendMessage(c, channelId, timestampNs, payload);
  }

  /** A message to one client, when it subscribes to the channel (a latched topic's history). */
  sendMessageTo(client: ClientHandle, channelId: number, timestampNs: bigint, payload: Uint8Array): void {
    for (const c of this.#clients) if (c.id === client.id) this.#sendMessage(c, channelId, timestampNs, payload);
  }

  /** A message on a channel to a client, if it subscribes to it. */
  #sendMessage(c: Client, channelId: number, timestampNs: bigint, payload: Uint8Array): void {
    const sub = c.byChannel.get(channelId);
    if (sub !== undefined) c.queue.data(messageDataFrame(sub, timestampNs, payload));
  }

  /** The server's time to every client (capability time). */
  broadcastTime(timestampNs: bigint): void {
    if (!this.#options.capabilities.includes('time') || this.#clients.size === 0) return;
    const frame = timeFrame(timestampNs);
    for (const c of this.#clients) c.queue.data(frame);
  }

  /** The graph as discovered now; clients that asked for it get what changed. */
  setConnectionGraph(topics: readonly GraphTopic[]): void {
    const update = this.#graph.update(topics);
    if (!update) return;
    for (const c of this.#clients) if (c.graph) this.#send(c, update);
  }

  /** A status message to one client, or to all. */
  status(level: Level, message: string, client?: ClientHandle): void {
    const targets = client ? [...this.#clients].filter((c) => c.id === client.id) : [...this.#clients];
    for (const c of targets) this.#send(c, { op: 'status', level, message });
  }

  clientStats(): ClientStats[] {
    return [...this.#clients].map((c) => ({
      name: c.name,
      subscriptions: c.subscriptions.size,
      dropped: c.queue.dropped,
      sent: c.queue.sent,
      queued: c.queue.queued,
      queuedBytes: c.queue.queuedBytes,
      bufferedBytes: c.socket.bufferedAmount,
      refused: c.refused,
    }));
  }

  /** data frames dropped for slow clients, those gone included */
  get dropped(): number {
    let n = this.#droppedGone;
    for (const c of this.#clients) n += c.queue.dropped;
    return n;
  }

  /** Disconnect every client and stop listening. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    for (const c of [...this.#clients]) {
      c.socket.terminate();
      this.#gone(c);
    }
    return new Promise((resolve) => this.#wss.close(() => resolve()));
  }

  #send(c: Client, message: ServerMessage): void {
    c.queue.control(jsonFrame(message));
  }

  #refuse(c: Client, message: string, level: Level = Level.error): void {
    c.refused++;
    this.#send(c, { op: 'status', level, message });
  }

  #accept(socket: WebSocket, name: string): void {
    // a socket without an 'error' listener would take the process down on a bad frame
    socket.on('error', (err) => this.#log.warn(`foxglove client ${name}: ${err.message}`));
    if (this.#closed) {
      socket.terminate();
      return;
    }
    if (socket.protocol !== SUBPROTOCOL) {
      this.#log.warn(`foxglove client ${name} did not offer the subprotocol ${SUBPROTOCOL}; closing`);
      socket.close(1002, `subprotocol ${SUBPROTOCOL} required`);
      return;
    }
    const client = new Client(this.#nextClientId++, name, socket, this.#options, () =>
      this.#log.warn(`foxglove client ${name} does not read what it is sent: disconnected`),
    );
    this.#clients.add(client);
    this.connections++;
    this.#log.info(`foxglove client ${name} connected`);
    socket.on('message', (data, isBinary) => this.#receive(client, data, isBinary));
    socket.on('close', (code) => {
      this.#log.info(`foxglove client ${name} disconnected (${code})`);
      this.#gone(client);
    });
    const caps = this.#options.capabilities;
    this.#send(client, {
      op: 'serverInfo',
      name: this.#options.name,
      capabilities: [...caps],
      ...(caps.includes('clientPublish') && this.#options.supportedEncodings
        ? { supportedEncodings: [...this.#options.supportedEncodings] }
        : {}),
      sessionId: this.#sessionId,
    });
    if (this.#channels.size > 0) this.#send(client, { op: 'advertise', channels: [...this.#channels.values()] });
  }

  #gone(c: Client): void {
    if (!this.#clients.delete(c)) return;
    this.#droppedGone += c.queue.dropped;
    for (const channelId of c.byChannel.keys())
      if (!this.subscribed(channelId)) this.#safely(c, () => this.#handlers.unsubscribe(channelId));
    for (const channelId of c.advertised) this.#safely(c, () => this.#handlers.clientUnadvertise(c, channelId));
    c.byChannel.clear();
    c.subscriptions.clear();
    c.advertised.clear();
  }

  /** Run an owner's handler; what it throws is logged, never thrown into ws. */
  #safely(c: Client, work: () => void): void {
    try {
      work();
    } catch (err) {
      this.#log.error(`foxglove client ${c.name}: handling its request failed: ${(err as Error).stack ?? String(err)}`);
    }
  }

  #receive(c: Client, data: RawData, isBinary: boolean): void {
    if (!this.#clients.has(c)) return;
    this.#safely(c, () => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      if (isBinary) {
        const parsed = parseClientBinary(bytes);
        if (!parsed.ok) this.#refuse(c, parsed.error);
        else this.#binary(c, parsed.value);
      } else {
        const parsed = parseClientText(bytes.toString('utf8'));
        if (!parsed.ok) this.#refuse(c, parsed.error);
        else this.#request(c, parsed.value);
      }
    });
  }

  #allowed(c: Client, op: ClientRequest['op'] | ClientBinary['op']): boolean {
    const needs = requiredCapability(op);
    if (needs === undefined || this.#options.capabilities.includes(needs)) return true;
    this.#refuse(c, `${op} needs the capability '${needs}', which this server does not offer`);
    return false;
  }

  #binary(c: Client, message: ClientBinary): void {
    if (!this.#allowed(c, message.op)) return;
    if (message.op !== 'messageData') return; // services are never offered: refused above
    if (!c.advertised.has(message.channelId)) {
      this.#refuse(c, `message data for client channel ${message.channelId}, which was not advertised`);
      return;
    }
    const refusal = this.#handlers.clientMessage(c, message.channelId, message.payload);
    if (refusal) this.#refuse(c, refusal);
  }

  /** The values of the named parameters (all: none named) to a client, once the owner has them. */
  async #parameterValues(c: Client, names: readonly string[], id: string | undefined): Promise<void> {
    try {
      const parameters = await this.#handlers.getParameters(names);
      if (this.#clients.has(c))
        this.#send(c, { op: 'parameterValues', parameters, ...(id !== undefined ? { id } : {}) });
    } catch (err) {
      if (this.#clients.has(c)) this.#refuse(c, `parameters could not be read: ${(err as Error).message}`, Level.error);
    }
  }

  #request(c: Client, m: ClientRequest): void {
    if (!this.#allowed(c, m.op)) return;
    switch (m.op) {
      case 'subscribe':
        for (const { id, channelId } of m.subscriptions) {
          if (c.subscriptions.has(id)) {
            this.#refuse(c, `subscription id ${id} is already in use; ignoring the subscription`);
            continue;
          }
          if (!this.#channels.has(channelId)) {
            this.#refuse(c, `channel ${channelId} is not available; ignoring the subscription`, Level.warning);
            continue;
          }
          if (c.byChannel.has(channelId)) {
            this.#refuse(c, `already subscribed to channel ${channelId}; ignoring the subscription`, Level.warning);
            continue;
          }
          const first = !this.subscribed(channelId);
          c.subscriptions.set(id, channelId);
          c.byChannel.set(channelId, id);
          this.#handlers.subscribe(channelId, c, first);
        }
        return;
      case 'unsubscribe':
        for (const id of m.subscriptionIds) {
          const channelId = c.subscriptions.get(id);
          if (channelId === undefined) {
            this.#refuse(c, `subscription id ${id} does not exist; ignoring the unsubscription`, Level.warning);
            continue;
          }
          c.subscriptions.delete(id);
          c.byChannel.delete(channelId);
          if (!this.subscribed(channelId)) this.#handlers.unsubscribe(channelId);
        }
        return;
      case 'advertise':
        for (const channel of m.channels) {
          if (c.advertised.has(channel.id)) {
            this.#refuse(c, `client channel ${channel.id} is already advertised; ignoring the advertisement`);
            continue;
          }
          const refusal = this.#handlers.clientAdvertise(c, channel);
          if (refusal) this.#refuse(c, refusal);
          else c.advertised.add(channel.id);
        }
        return;
      case 'unadvertise':
        for (const id of m.channelIds) {
          if (!c.advertised.delete(id)) {
            this.#refuse(c, `client channel ${id} was not advertised; ignoring the unadvertisement`, Level.warning);
            continue;
          }
          this.#handlers.clientUnadvertise(c, id);
        }
        return;
      case 'getParameters':
        void this.#parameterValues(c, m.parameterNames, m.id);
        return;
      case 'setParameters': {
        const refusal = this.#handlers.setParameters(m.parameters);
        if (refusal) this.#refuse(c, refusal);
        // the values as they are now, so the client shows what holds (spec: only when id is set)
        if (m.id !== undefined)
          void this.#parameterValues(
            c,
            m.parameters.map((p) => p.name),
            m.id,
          );
        return;
      }
      case 'subscribeConnectionGraph':
        c.graph = true;
        this.#send(c, this.#graph.full());
        return;
      case 'unsubscribeConnectionGraph':
        c.graph = false;
        return;
      case 'subscribeParameterUpdates':
      case 'unsubscribeParameterUpdates':
      case 'fetchAsset':
        return; // refused in #allowed: never offered
    }
  }
}
