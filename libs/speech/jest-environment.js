// Jest runs tests in their own realm, whose typed-array constructors are not Node's; onnxruntime-node
// builds its output tensors with Node's, and its Tensor class (loaded in the test realm) rejects them.
// Tests that run the VAD use this environment: the test realm gets Node's typed arrays.
const { TestEnvironment } = require('jest-environment-node');

class NodeTypedArraysEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of ['Float32Array', 'Float64Array', 'Int32Array', 'BigInt64Array', 'Uint8Array', 'Int8Array', 'Uint16Array', 'Int16Array', 'Uint32Array', 'BigUint64Array', 'ArrayBuffer']) {
      this.global[name] = globalThis[name];
    }
  }
}

module.exports = NodeTypedArraysEnvironment;
