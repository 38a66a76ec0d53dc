module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'ingest',
  rootDir: __dirname,
  // transcribe runs the VAD (onnxruntime-node), which needs Node's own typed arrays in the test realm.
  testEnvironment: require.resolve('../../libs/speech/jest-environment.js'),
};
