module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'ai-responder',
  // The sentence encoder runs ONNX Runtime, whose output arrays need Node's own globals.
  testEnvironment: require.resolve('../../libs/encoder/jest-environment.js'),
};
