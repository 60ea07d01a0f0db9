import { codecFor } from '../../msgs/codec.js';

/**
 * One published message, as an object, as CDR bytes, or both: each form is made from the other
 * at most once, when first asked for, so same-thread delivery never encodes.
 */
export class Envelope {
  #object: unknown;
  #bytes: Uint8Array | undefined;

  constructor(
    readonly type: string,
    object: unknown,
    bytes?: Uint8Array,
  ) {
    this.#object = object;
    this.#bytes = bytes;
  }

  get object(): unknown {
    if (this.#object === undefined) this.#object = codecFor(this.type).decode(this.#bytes!);
    return this.#object;
  }

  get bytes(): Uint8Array {
    if (this.#bytes === undefined) this.#bytes = codecFor(this.type).encode(this.#object);
    return this.#bytes;
  }

  /**
   * The bytes, made now if not made yet: encoding checks the message against its type, so a
   * message that does not fit throws here.
   */
  encode(): Uint8Array {
    return this.bytes;
  }
}
