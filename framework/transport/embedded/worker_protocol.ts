import type { QoS } from '../qos.js';
import type { GraphParameter, TopicInfo } from '../types.js';

// The messages between a worker and the main thread. Data travels as batches of CDR bytes; the
// rest is graph and lifecycle control, posted in order on the same port.

export type ToMain =
  | { op: 'advertise'; id: number; topic: string; type: string; qos: QoS; owner: string }
  | { op: 'subscribe'; id: number; topic: string; type: string; qos: QoS; owner: string }
  | { op: 'remove'; id: number }
  /** a worker node's parameters for the graph to see (undefined: the node went) */
  | { op: 'parameters'; node: string; parameters: readonly GraphParameter[] | undefined }
  | { op: 'data'; batch: ArrayBuffer }
  | { op: 'finished'; reason: string }
  | { op: 'failed'; reason: string }
  | { op: 'reply'; seq: number; ok: true; result?: unknown }
  | { op: 'reply'; seq: number; ok: false; error: string };

export type ToWorker =
  | { op: 'data'; batch: ArrayBuffer }
  /** the number of endpoints a worker's publisher (subscriptions) or subscription (publishers) is matched with */
  | { op: 'matched'; id: number; count: number }
  /** the main thread's graph (its bus's topicNamesAndTypes and graphParameters), sent at start and after each change */
  | { op: 'graph'; topics: TopicInfo[]; parameters: GraphParameter[] }
  | { op: 'call'; seq: number; method: string; args: unknown[] };
