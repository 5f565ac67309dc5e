// The ONNX Runtime sessions of one process, on a thread of their own (see src/onnx-thread.ts).
// onnxruntime-node runs a model synchronously on the thread that calls `run`: on the main thread,
// every batch would stop the event loop (Kafka, Redis, HTTP) for as long as the model takes.
// Plain CommonJS, so that it runs as it is under Node and under Jest (which maps only .ts).
'use strict';
const { parentPort } = require('node:worker_threads');
const ort = require('onnxruntime-node');

/** Loaded sessions by the number the main thread gave them. */
const sessions = new Map();

async function handle(message) {
  switch (message.type) {
    case 'load': {
      const session = await ort.InferenceSession.create(message.path, message.options);
      sessions.set(message.session, session);
      return { inputNames: session.inputNames, outputNames: session.outputNames };
    }
    case 'run': {
      const session = sessions.get(message.session);
      if (!session) throw new Error(`no ONNX session ${message.session} on the encoder thread`);
      const feeds = {};
      for (const [name, t] of Object.entries(message.feeds))
        feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
      const result = await session.run(feeds);
      const output = result[message.output] ?? result[session.outputNames[0]];
      // A copy in this thread's own memory, so its buffer can move to the main thread.
      const data = new Float32Array(output.data);
      const dims = [...output.dims];
      for (const tensor of Object.values(result)) tensor.dispose();
      return { data, dims, transfer: [data.buffer] };
    }
    case 'release': {
      await sessions.get(message.session)?.release();
      sessions.delete(message.session);
      return {};
    }
    default:
      throw new Error(`unknown message to the encoder thread: ${message.type}`);
  }
}

parentPort.on('message', (message) => {
  handle(message).then(
    ({ transfer, ...value }) => parentPort.postMessage({ id: message.id, value }, transfer ?? []),
    (err) => parentPort.postMessage({ id: message.id, error: String(err?.message ?? err) }),
  );
});
