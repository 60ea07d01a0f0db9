import wsProtocol from '@foxglove/ws-protocol';
import type { ClientChannel, Parameter, ServerMessage } from '@foxglove/ws-protocol';

// The Foxglove WebSocket protocol v1 on the wire, as docs/spec.md of foxglove/ws-protocol states
// it (at 305d217, the last commit before the spec was removed in 8e2a044; the TypeScript types
// are @foxglove/ws-protocol's src/types.ts): JSON text frames with an `op`, binary frames with a
// one-byte opcode and little-endian integers. What a client sends is untrusted: parsing checks
// every field it uses and answers a problem as one sentence, never by throwing.

const { BinaryOpcode, ClientBinaryOpcode, StatusLevel } = wsProtocol;
const CLIENT_MESSAGE_DATA: number = ClientBinaryOpcode.MESSAGE_DATA;
const CLIENT_SERVICE_CALL_REQUEST: number = ClientBinaryOpcode.SERVICE_CALL_REQUEST;

/** The subprotocol a client must offer (FoxgloveServer.SUPPORTED_SUBPROTOCOL). */
export const SUBPROTOCOL = 'foxglove.websocket.v1';

/** The spec's server capabilities (types.ts ServerCapability). */
export const CAPABILITIES = [
  'clientPublish',
  'time',
  'parameters',
  'parametersSubscribe',
  'services',
  'connectionGraph',
  'assets',
] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** Status levels (spec "Status": 0 info, 1 warning, 2 error). */
export const Level = { info: StatusLevel.INFO, warning: StatusLevel.WARNING, error: StatusLevel.ERROR } as const;
export type Level = (typeof Level)[keyof typeof Level];

/** A JSON request from a client, its fields checked. */
export type ClientRequest =
  | { readonly op: 'subscribe'; readonly subscriptions: readonly { id: number; channelId: number }[] }
  | { readonly op: 'unsubscribe'; readonly subscriptionIds: readonly number[] }
  | { readonly op: 'advertise'; readonly channels: readonly ClientChannel[] }
  | { readonly op: 'unadvertise'; readonly channelIds: readonly number[] }
  | { readonly op: 'getParameters'; readonly parameterNames: readonly string[]; readonly id?: string }
  | { readonly op: 'setParameters'; readonly parameters: readonly Parameter[]; readonly id?: string }
  | { readonly op: 'subscribeParameterUpdates' | 'unsubscribeParameterUpdates'; readonly parameterNames: string[] }
  | { readonly op: 'subscribeConnectionGraph' | 'unsubscribeConnectionGraph' }
  | { readonly op: 'fetchAsset'; readonly uri: string; readonly requestId: number };

/** A binary frame from a client. */
export type ClientBinary =
  | { readonly op: 'messageData'; readonly channelId: number; readonly payload: Uint8Array }
  | { readonly op: 'serviceCallRequest'; readonly serviceId: number };

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** The capability an operation needs (as FoxgloveServer's REQUIRED_CAPABILITY_BY_OPERATION). */
export function requiredCapability(op: ClientRequest['op'] | ClientBinary['op']): Capability | undefined {
  switch (op) {
    case 'subscribe':
    case 'unsubscribe':
      return undefined;
    case 'advertise':
    case 'unadvertise':
    case 'messageData':
      return 'clientPublish';
    case 'getParameters':
    case 'setParameters':
      return 'parameters';
    case 'subscribeParameterUpdates':
    case 'unsubscribeParameterUpdates':
      return 'parametersSubscribe';
    case 'subscribeConnectionGraph':
    case 'unsubscribeConnectionGraph':
      return 'connectionGraph';
    case 'fetchAsset':
      return 'assets';
    case 'serviceCallRequest':
      return 'services';
  }
}

const isUint32 = (x: unknown): x is number => Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 0xffff_ffff;
const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

class Invalid extends Error {}

function arrayOf<T>(value: unknown, field: string, item: (x: unknown, where: string) => T): T[] {
  if (!Array.isArray(value)) throw new Invalid(`'${field}' must be an array`);
  return value.map((x, i) => item(x, `${field}[${i}]`));
}

function uint32(x: unknown, where: string): number {
  if (!isUint32(x)) throw new Invalid(`'${where}' must be an unsigned 32-bit integer, got ${JSON.stringify(x)}`);
  return x;
}

function text(x: unknown, where: string): string {
  if (typeof x !== 'string') throw new Invalid(`'${where}' must be a string`);
  return x;
}

function optionalId(m: Record<string, unknown>): { id?: string } {
  return m.id === undefined ? {} : { id: text(m.id, 'id') };
}

function clientChannel(x: unknown, where: string): ClientChannel {
  if (!isObject(x)) throw new Invalid(`'${where}' must be an object`);
  const base = {
    id: uint32(x.id, `${where}.id`),
    topic: text(x.topic, `${where}.topic`),
    encoding: text(x.encoding, `${where}.encoding`),
    schemaName: text(x.schemaName, `${where}.schemaName`),
  };
  return typeof x.schema === 'string'
    ? { ...base, schema: x.schema, schemaEncoding: typeof x.schemaEncoding === 'string' ? x.schemaEncoding : '' }
    : base;
}

function parameter(x: unknown, where: string): Parameter {
  if (!isObject(x)) throw new Invalid(`'${where}' must be an object`);
  return { name: text(x.name, `${where}.name`), value: x.value as Parameter['value'] };
}

function request(m: Record<string, unknown>): ClientRequest {
  const op = m.op;
  switch (op) {
    case 'subscribe':
      return {
        op,
        subscriptions: arrayOf(m.subscriptions, 'subscriptions', (s, where) => {
          if (!isObject(s)) throw new Invalid(`'${where}' must be an object`);
          return { id: uint32(s.id, `${where}.id`), channelId: uint32(s.channelId, `${where}.channelId`) };
        }),
      };
    case 'unsubscribe':
      return { op, subscriptionIds: arrayOf(m.subscriptionIds, 'subscriptionIds', uint32) };
    case 'advertise':
      return { op, channels: arrayOf(m.channels, 'channels', clientChannel) };
    case 'unadvertise':
      return { op, channelIds: arrayOf(m.channelIds, 'channelIds', uint32) };
    case 'getParameters':
      return { op, parameterNames: arrayOf(m.parameterNames ?? [], 'parameterNames', text), ...optionalId(m) };
    case 'setParameters':
      return { op, parameters: arrayOf(m.parameters, 'parameters', parameter), ...optionalId(m) };
    case 'subscribeParameterUpdates':
    case 'unsubscribeParameterUpdates':
      return { op, parameterNames: arrayOf(m.parameterNames ?? [], 'parameterNames', text) };
    case 'subscribeConnectionGraph':
    case 'unsubscribeConnectionGraph':
      return { op };
    case 'fetchAsset':
      return { op, uri: text(m.uri, 'uri'), requestId: uint32(m.requestId, 'requestId') };
    default:
      throw new Invalid(`unknown op ${JSON.stringify(op)}`);
  }
}

/** A client's text frame: a JSON object with a known `op` and the fields that op needs. */
export function parseClientText(frame: string): Parsed<ClientRequest> {
  let message: unknown;
  try {
    message = JSON.parse(frame);
  } catch (err) {
    return { ok: false, error: `malformed JSON: ${(err as Error).message}` };
  }
  if (!isObject(message)) return { ok: false, error: 'a text message must be a JSON object with an op' };
  try {
    return { ok: true, value: request(message) };
  } catch (err) {
    if (err instanceof Invalid)
      return { ok: false, error: `${typeof message.op === 'string' ? `${message.op}: ` : ''}${err.message}` };
    throw err;
  }
}

/** A client's binary frame (spec "Client Message Data", "Service Call Request"). */
export function parseClientBinary(frame: Uint8Array): Parsed<ClientBinary> {
  if (frame.byteLength < 1) return { ok: false, error: 'empty binary message' };
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const opcode = view.getUint8(0);
  if (opcode === CLIENT_MESSAGE_DATA) {
    if (frame.byteLength < 5) return { ok: false, error: 'message data shorter than its 5-byte header' };
    return { ok: true, value: { op: 'messageData', channelId: view.getUint32(1, true), payload: frame.subarray(5) } };
  }
  if (opcode === CLIENT_SERVICE_CALL_REQUEST) {
    if (frame.byteLength < 5) return { ok: false, error: 'service call request shorter than its header' };
    return { ok: true, value: { op: 'serviceCallRequest', serviceId: view.getUint32(1, true) } };
  }
  return { ok: false, error: `unknown binary opcode ${opcode}` };
}

/** A JSON message for a client. */
export function jsonFrame(message: ServerMessage): string {
  return JSON.stringify(message);
}

const clampU64 = (ns: bigint): bigint => (ns < 0n ? 0n : ns > 0xffff_ffff_ffff_ffffn ? 0xffff_ffff_ffff_ffffn : ns);

/** Message Data: opcode 1, uint32 subscription id, uint64 timestamp (ns), the payload. */
export function messageDataFrame(subscriptionId: number, timestampNs: bigint, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(13 + payload.byteLength);
  const view = new DataView(frame.buffer);
  view.setUint8(0, BinaryOpcode.MESSAGE_DATA);
  view.setUint32(1, subscriptionId, true);
  view.setBigUint64(5, clampU64(timestampNs), true);
  frame.set(payload, 13);
  return frame;
}

/** Time: opcode 2, uint64 timestamp (ns). */
export function timeFrame(timestampNs: bigint): Uint8Array {
  const frame = new Uint8Array(9);
  const view = new DataView(frame.buffer);
  view.setUint8(0, BinaryOpcode.TIME);
  view.setBigUint64(1, clampU64(timestampNs), true);
  return frame;
}
