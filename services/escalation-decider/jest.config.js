module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'escalation-decider',
  // The decider runs the sentence encoder (ONNX Runtime) for the human-request classifier.
  testEnvironment: require.resolve('../../libs/encoder/jest-environment.js'),
};
