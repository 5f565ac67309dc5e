module.exports = { ...require('../../jest.preset.js'), displayName: 'escalation-decider' };
