// Jest's node environment for code that runs ONNX Runtime. onnxruntime-node's
// native binding makes its output tensors' typed arrays in Node's own realm,
// while Jest's sandbox has typed array constructors of its own, so
// onnxruntime-common's `instanceof Float32Array` check fails there ("A float32
// tensor's data must be type of Float32Array"). Jest already shares the host's
// ArrayBuffer and Uint8Array with the sandbox; this shares the other typed arrays.
const { TestEnvironment } = require('jest-environment-node');

const TYPED_ARRAYS = [
  'Int8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
];

class OnnxRuntimeEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of TYPED_ARRAYS) this.global[name] = globalThis[name];
  }
}

module.exports = OnnxRuntimeEnvironment;
