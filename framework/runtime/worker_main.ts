import { parentPort, workerData } from 'node:worker_threads';
import type { ToMain, ToWorker } from '../transport/embedded/worker_protocol.js';
import { RemoteBus } from '../transport/embedded/remote_bus.js';
import { EmbeddedTransport } from '../transport/embedded/transport.js';
import { createLogger, setLogLevelSpec } from '../../src/util/log.js';
import { LocalNode } from './managed_node.js';
import type { NodeDefinition } from './node_definition.js';
import type { WorkerNodeData } from './worker_node.js';

// The entry of a worker thread that runs one node: an embedded transport whose bus is the remote bus
// to the main thread, and the node's lifecycle driven by calls from there.

const data = workerData as WorkerNodeData;
const port = parentPort!;
setLogLevelSpec(data.logLevelSpec);
const log = createLogger(data.fullyQualifiedName);
const bus = new RemoteBus(port, (topic, owner, error) =>
  log.error(`callback for ${topic} threw: ${(error as Partial<Error> | null | undefined)?.stack ?? String(error)}`),
);
const transport = new EmbeddedTransport({ port: bus, checkMessages: data.checkMessages });
let node: LocalNode | undefined;

async function call(method: string): Promise<unknown> {
  if (method === 'configure') {
    const definition = ((await import(data.moduleUrl)) as { default: NodeDefinition }).default;
    node = new LocalNode(transport, definition, data.options, data.fullyQualifiedName);
    await node.configure();
    const finished = node.finished();
    finished?.then(
      (reason) => bus.post({ op: 'finished', reason } satisfies ToMain),
      (err: unknown) =>
        log.error(`finished failed: ${(err as Partial<Error> | null | undefined)?.message ?? String(err)}`),
    );
    const failed = node.failed();
    failed?.then(
      (reason) => bus.post({ op: 'failed', reason } satisfies ToMain),
      // it should never reject (NodeLifecycle.failed); if it does, the node has failed all the same
      (err: unknown) =>
        bus.post({
          op: 'failed',
          reason: (err as Partial<Error> | null | undefined)?.message ?? String(err),
        } satisfies ToMain),
    );
    return { hasFinished: finished !== undefined, hasFailed: failed !== undefined };
  }
  if (!node) throw new Error(`${method} before configure`);
  switch (method) {
    case 'activate':
      return node.activate();
    case 'deactivate':
      return node.deactivate();
    case 'cleanup':
      await node.cleanup();
      return node.report();
    case 'report':
      return node.report();
    default:
      throw new Error(`unknown call ${method}`);
  }
}

port.on('message', (message: ToWorker) => {
  if (message.op !== 'call') {
    bus.receive(message);
    return;
  }
  call(message.method).then(
    (result) => bus.post({ op: 'reply', seq: message.seq, ok: true, result } satisfies ToMain),
    (error: unknown) =>
      bus.post({
        op: 'reply',
        seq: message.seq,
        ok: false,
        error: (error as Partial<Error> | null | undefined)?.message ?? String(error),
      } satisfies ToMain),
  );
});
