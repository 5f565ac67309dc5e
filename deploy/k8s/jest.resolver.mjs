// The Kubernetes models are ES modules that export for `import` only: resolve them (and their
// own imports) with that condition, everything else as Jest does. Jest then loads them with
// require(esm) (Node 24, the VM modules flag).
const MODELS = /^(kubernetes-models|@kubernetes-models\/)/;

export default function resolve(path, options) {
  const conditions = [...(options.conditions ?? []), 'import'];
  return options.defaultResolver(path, MODELS.test(path) ? { ...options, conditions } : options);
}
