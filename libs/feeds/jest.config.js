module.exports = { ...require('../../jest.preset.js'), displayName: 'feeds', rootDir: __dirname };
