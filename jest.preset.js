// Shared Jest settings: TypeScript through ts-jest (transpile only, type
// checking is the build's job), workspace libraries resolved to their sources.
const path = require('node:path');

module.exports = {
  testEnvironment: 'node',
  testTimeout: 60000,
  transform: {
    '^.+\\.ts$': [
      'ts-jest',
      { tsconfig: path.join(__dirname, 'tsconfig.spec.json'), diagnostics: false },
    ],
  },
  moduleNameMapper: {
    '^@support/([a-z-]+)$': path.join(__dirname, 'libs/$1/src/index.ts'),
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testMatch: ['**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};
