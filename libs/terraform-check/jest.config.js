module.exports = { ...require('../../jest.preset.js'), displayName: 'terraform-check', rootDir: __dirname };
