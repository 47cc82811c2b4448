/**
 * The layers of crowdline, as rules `npm run lint` checks on every import
 * (docs/architecture.md has the picture, generated from the same code):
 *
 *   cli/     the `crowdline` command, on top: may import everything
 *   bench/   may use src/ and client/
 *   client/  the camera client: from src/ only the protocol (src/framing)
 *            and what the command line and the server share (src/common)
 *   src/     the server library: imports none of the above
 *
 * Inside src/, framing and workers know no sockets: src/accept composes them.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'src-not-to-client',
      comment: 'The server library must not depend on the camera client: a server built from src/ needs no OpenCV, ffmpeg or window code.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^client/' },
    },
    {
      name: 'src-not-to-bench',
      comment: 'The server library must not depend on the load generators and measurements in bench/.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^bench/' },
    },
    {
      name: 'src-not-to-cli',
      comment: 'The command (cli/) is the composition root on top; the server library below it must be usable without yargs or any subcommand.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^cli/' },
    },
    {
      name: 'src-not-to-models',
      comment: 'models/ holds the training and evaluation scripts, which use the server; the server must not use them.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^models/' },
    },
    {
      name: 'client-not-to-cli',
      comment:
        'The client is a library the command drives (argv -> options happens in cli/); importing back would make the command and the client a cycle again.',
      severity: 'error',
      from: { path: '^client/' },
      to: { path: '^cli/' },
    },
    {
      name: 'client-not-to-bench',
      comment: 'The client must not depend on the benchmarks, which depend on it.',
      severity: 'error',
      from: { path: '^client/' },
      to: { path: '^bench/' },
    },
    {
      name: 'client-only-protocol-from-src',
      comment:
        'From the server library the client takes only the protocol (src/framing), what the command line and server share (src/common), and where the package lies (src/app/paths.ts): never the server itself.',
      severity: 'error',
      from: { path: '^client/' },
      to: { path: '^src/', pathNot: ['^src/framing/', '^src/common/', '^src/app/paths[.]ts$'] },
    },
    {
      name: 'not-to-test',
      comment: 'Shipped code (src/, client/, cli/, models/) must not import test code.',
      severity: 'error',
      from: { path: '^(src|client|cli|models)/' },
      to: { path: '^test/' },
    },
    {
      name: 'framing-no-net',
      comment:
        'src/framing (bytes <-> messages) and src/workers (decode, inference) know no sockets: they can be fuzzed, benchmarked and run in worker threads without a network. Only src/accept and the layers above it talk to the network.',
      severity: 'error',
      from: { path: '^src/(framing|workers)/' },
      to: {
        path: ['^(node:)?(net|tls|http|https|http2|dgram)$', '^src/(accept|tls|metrics/http)'],
      },
    },
    {
      name: 'no-circular',
      comment: 'A cycle makes two modules one: neither can be understood, tested or moved alone, and ES module cycles can see half-initialised bindings.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that does not resolve fails at run time; catch it here (a missing package or a typo in a path).',
      severity: 'error',
      // models/movenet_reference.mjs is a reference script run by hand with its own TensorFlow.js install (see its header), not part of the build.
      from: { pathNot: '^models/movenet_reference[.]mjs$' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: ['node_modules'] },
    exclude: { path: ['^dist/', '^node_modules/', '^native/build/'] },
    // Type-only imports count too: a layer that names another's types depends on it.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: {
      archi: { collapsePattern: '^(src/[^/]+|client/[^/]+|cli|bench|models|test)/' },
      dot: { collapsePattern: '^(src/[^/]+|client/[^/]+|cli|bench|models|test)/' },
    },
  },
};
