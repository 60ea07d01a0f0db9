// States held until the command in force over each is known, so that pairing a state with its
// command does not depend on the order in which a node handles messages of different topics.
//
// A state and a command come on two topics, from two publishers (an estimator and a controller).
// DDS keeps one publisher's messages in order on a reliable topic, but nothing orders messages of
// different topics at a reader, and an executor takes the ready subscriptions in its own order
// (rclnodejs 2.2.0 lib/node.js execute(): in creation order, one message each). So a state of tick
// k+1 can be handled before the command of tick k that was published before it, and a command
// stamped on arrival with the reader's clock (/clock, another topic again) can get a later tick's. With commands stamped by
// their source (the tick they were computed for), a state stamped t is complete once a command
// stamped at or after t has come: the source's earlier commands, all stamped before t, came before
// it (one command source, in order). Until then the state is held; held states go out in order.
// A command stream that lags by more than `limit` states lets the oldest through (it pairs with
// what has come); a stamp that goes back (a source that restarted) lets every held state through.

export class StateHold<S> {
  readonly #limit: number;
  #held: { stampNs: bigint; state: S }[] = [];
  /** the stamp of the newest command: every command stamped before it has come */
  #commandsThroughNs: bigint | undefined;
  /** the stamp of the newest state taken */
  #lastStateNs: bigint | undefined;

  /** `limit`: states held at most (the oldest goes out when one more comes) */
  constructor(limit = 1000) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new Error(`state hold limit must be a positive integer, got ${limit}`);
    this.#limit = limit;
  }

  /** states held now */
  get held(): number {
    return this.#held.length;
  }

  /** A state stamped `stampNs`: the states that can be used now, in order (it, or none, or older ones). */
  state(stampNs: bigint, state: S): S[] {
    const out: S[] = [];
    // a stamp that went back: a new time line, the held states' commands will not come on it
    if (this.#lastStateNs !== undefined && stampNs < this.#lastStateNs) out.push(...this.flush());
    this.#lastStateNs = stampNs;
    if (!this.#held.length && this.#commandsThroughNs !== undefined && stampNs <= this.#commandsThroughNs) {
      out.push(state);
      return out;
    }
    this.#held.push({ stampNs, state });
    if (this.#held.length > this.#limit) out.push(this.#held.shift()!.state);
    return out;
  }

  /** A command stamped `stampNs` came: the held states it completes, in order. */
  command(stampNs: bigint): S[] {
    if (this.#commandsThroughNs !== undefined && stampNs < this.#commandsThroughNs) {
      // the source's clock went back: what is held belongs to the old time line
      const out = this.flush();
      this.#commandsThroughNs = stampNs;
      return out;
    }
    this.#commandsThroughNs = stampNs;
    let n = 0;
    while (n < this.#held.length && this.#held[n]!.stampNs <= stampNs) n++;
    return this.#held.splice(0, n).map((h) => h.state);
  }

  /** Every held state, in order (the commands will not come: a stop, a cleanup). */
  flush(): S[] {
    return this.#held.splice(0).map((h) => h.state);
  }
}
