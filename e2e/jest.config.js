module.exports = {
  ...require('../jest.preset.js'),
  displayName: 'e2e',
  testTimeout: 180000,
  // The files start brokers, services and clients of their own and stop them in afterAll; a client
  // that reconnects to a broker one of them restarted must not keep the run from ending.
  forceExit: true,
  // A failed file prints the warnings and errors the services logged while it ran.
  reporters: ['default', '<rootDir>/failure-logs-reporter.js'],
};
