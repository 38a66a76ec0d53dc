module.exports = { ...require('../../jest.preset.js'), displayName: 'speech', rootDir: __dirname, testEnvironment: require.resolve('./jest-environment.js') };
