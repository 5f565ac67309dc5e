import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export default {
  ...require('../../jest.preset.js'),
  displayName: 'k8s',
  resolver: require.resolve('./jest.resolver.mjs'),
};
