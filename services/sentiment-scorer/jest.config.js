module.exports = { ...require('../../jest.preset.js'), displayName: 'sentiment-scorer' };
