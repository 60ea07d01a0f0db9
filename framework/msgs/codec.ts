import { MessageReader, MessageWriter } from '@foxglove/rosmsg2-serialization';
import type { MessageDefinition } from '@foxglove/message-definition';
import { messageDefinitions, splitTypeName } from './definitions.js';
import { MessageValidator } from './validate.js';
import type { MessageTypeName, MessageTypes } from './types.js';

/** Encodes and decodes one message type as ROS 2 CDR (little-endian, with encapsulation header). */
export interface MessageCodec<T> {
  readonly type: string;
  encode(message: T): Uint8Array;
  decode(bytes: ArrayBufferView): T;
}

class CdrCodec<T> implements MessageCodec<T> {
  readonly #writer: MessageWriter;
  readonly #reader: MessageReader<T>;
  readonly #validator: MessageValidator;

  constructor(
    readonly type: string,
    defs: MessageDefinition[],
  ) {
    this.#writer = new MessageWriter(defs);
    this.#reader = new MessageReader<T>(defs);
    this.#validator = new MessageValidator(defs);
  }

  /** Encode, after checking every field against the definition (the writer itself coerces silently). */
  encode(message: T): Uint8Array {
    const problem = this.#validator.check(message);
    if (problem) throw new Error(`cannot encode ${this.type}: ${problem}`);
    try {
      return this.#writer.writeMessage(message);
    } catch (err) {
      throw new Error(`cannot encode ${this.type}: ${(err as Error).message}`, { cause: err });
    }
  }

  decode(bytes: ArrayBufferView): T {
    if (bytes.byteLength < 4)
      throw new Error(`cannot decode ${this.type}: ${bytes.byteLength} bytes is shorter than the CDR header`);
    try {
      return this.#reader.readMessage(bytes);
    } catch (err) {
      throw new Error(`cannot decode ${this.type} from ${bytes.byteLength} bytes: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
}

const codecs = new Map<string, MessageCodec<unknown>>();

/** The codec of a message type, built once from its .msg definition. */
export function codecFor<K extends MessageTypeName>(type: K): MessageCodec<MessageTypes[K]>;
export function codecFor(type: string): MessageCodec<unknown>;
export function codecFor(type: string): MessageCodec<unknown> {
  let codec = codecs.get(type);
  if (!codec) {
    const [pkg, name] = splitTypeName(type);
    codec = new CdrCodec(`${pkg}/msg/${name}`, messageDefinitions(type));
    codecs.set(type, codec);
  }
  return codec;
}
