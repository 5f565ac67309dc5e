module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'sentiment-scorer',
  // The scorer runs the sentence encoder (ONNX Runtime), which needs Node's own typed arrays.
  testEnvironment: require.resolve('../../libs/encoder/jest-environment.js'),
};
