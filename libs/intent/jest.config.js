module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'intent',
  // The sentence encoder runs ONNX Runtime, whose output arrays need Node's own globals.
  testEnvironment: require.resolve('../encoder/jest-environment.js'),
};
