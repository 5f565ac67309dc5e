module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'encoder',
  testEnvironment: require.resolve('./jest-environment.js'),
};
