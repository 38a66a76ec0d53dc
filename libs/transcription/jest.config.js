module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'transcription',
  rootDir: __dirname,
  // The VAD (onnxruntime-node) needs Node's own typed arrays in the test realm.
  testEnvironment: require.resolve('../speech/jest-environment.js'),
};
