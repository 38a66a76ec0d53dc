module.exports = { ...require('../../jest.preset.js'), displayName: 'transcription', rootDir: __dirname };
