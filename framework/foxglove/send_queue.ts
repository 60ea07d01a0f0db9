// What the server sends one client, bounded, so that a client that reads slowly or not at all
// cannot make the bridge hold more and more memory, nor delay what the other clients get.
//
// A frame goes to the socket while the socket's own buffer (ws `bufferedAmount`: bytes handed to
// the socket and not yet written to the kernel) is under `limitBytes` — foxglove_bridge's
// send_buffer_limit ("Messages will be dropped when a connection's send buffer reaches this limit
// to avoid a queue of outdated messages building up", ros-foxglove-bridge README). Past it, frames
// wait here, at most `backlog` data frames and `limitBytes` bytes of them; a data frame beyond
// that pushes out the oldest waiting data frame (counted in `dropped`), as the Foxglove SDK's
// message_backlog_size does ("drops the oldest data-plane message on overflow and disconnects
// clients whose control-plane queue fills", foxglove-sdk ros/src/foxglove_bridge/README.md).
// Control frames (JSON: advertise, status, …) are never dropped; more than `backlog` of them
// waiting closes the connection. Each completed write (ws's send callback) moves frames on.

/** The part of a ws WebSocket the queue uses. */
export interface QueueSocket {
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: string | Uint8Array, callback: (err?: Error) => void): void;
  close(code?: number, reason?: string): void;
}

const OPEN = 1; // WebSocket.OPEN

interface Entry {
  readonly frame: string | Uint8Array;
  readonly control: boolean;
  readonly bytes: number;
}

export interface SendQueueOptions {
  /** bytes the socket may buffer before frames wait here; also the bound of what waits here */
  readonly limitBytes: number;
  /** data frames that may wait here (and control frames, before the client is disconnected) */
  readonly backlog: number;
  /** called once when the queue closed the connection because control frames piled up */
  readonly onOverflow?: () => void;
}

export class SendQueue {
  /** data frames pushed out unsent because the client fell behind */
  dropped = 0;
  /** frames handed to the socket */
  sent = 0;
  #waiting: Entry[] = [];
  #head = 0;
  #waitingBytes = 0;
  #waitingData = 0;
  #waitingControl = 0;
  #closed = false;

  constructor(
    private readonly socket: QueueSocket,
    private readonly options: SendQueueOptions,
  ) {}

  /** frames waiting here now */
  get queued(): number {
    return this.#waiting.length - this.#head;
  }

  /** bytes of the frames waiting here now */
  get queuedBytes(): number {
    return this.#waitingBytes;
  }

  /** A JSON message: never dropped. */
  control(frame: string): void {
    this.#push({ frame, control: true, bytes: frame.length });
  }

  /** A binary data frame (message data, time): the first to go when the client falls behind. */
  data(frame: Uint8Array): void {
    this.#push({ frame, control: false, bytes: frame.byteLength });
  }

  #push(entry: Entry): void {
    if (this.#closed) return;
    if (this.socket.readyState !== OPEN) {
      this.#close();
      return;
    }
    if (this.queued === 0 && this.socket.bufferedAmount < this.options.limitBytes) {
      this.#send(entry);
      return;
    }
    if (entry.control) {
      if (this.#waitingControl >= this.options.backlog) {
        this.#close();
        this.socket.close(1008, 'the client does not read: its send queue is full');
        this.options.onOverflow?.();
        return;
      }
      this.#waitingControl++;
    } else {
      while (
        this.#waitingData > 0 &&
        (this.#waitingData >= this.options.backlog || this.#waitingBytes + entry.bytes > this.options.limitBytes)
      )
        this.#dropOldestData();
      this.#waitingData++;
    }
    this.#waiting.push(entry);
    this.#waitingBytes += entry.bytes;
  }

  #dropOldestData(): void {
    for (let i = this.#head; i < this.#waiting.length; i++) {
      const entry = this.#waiting[i]!;
      if (entry.control) continue;
      this.#waiting.splice(i, 1);
      this.#waitingData--;
      this.#waitingBytes -= entry.bytes;
      this.dropped++;
      return;
    }
  }

  #send(entry: Entry): void {
    this.sent++;
    this.socket.send(entry.frame, this.#written);
  }

  /** ws calls this when a frame was written (or failed): send what waits while there is room. */
  readonly #written = (err?: Error): void => {
    if (err || this.socket.readyState !== OPEN) {
      this.#close();
      return;
    }
    while (this.queued > 0 && this.socket.bufferedAmount < this.options.limitBytes) {
      const entry = this.#waiting[this.#head]!;
      this.#head++;
      this.#waitingBytes -= entry.bytes;
      if (entry.control) this.#waitingControl--;
      else this.#waitingData--;
      this.#send(entry);
    }
    // compact once the sent part dominates, so the array does not grow with every frame
    if (this.#head > 64 && this.#head * 2 > this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#head);
      this.#head = 0;
    }
  };

  /** Drop everything waiting: the connection is gone or going. */
  #close(): void {
    this.#closed = true;
    this.#waiting = [];
    this.#head = 0;
    this.#waitingBytes = 0;
    this.#waitingData = 0;
    this.#waitingControl = 0;
  }
}
