// ESLint runs one rule here: the import boundaries between refwatch's layers (README, "The API at
// a glance"; DESIGN.md, "The flow of data"). Imports point down the flow, never up, and never
// sideways between consumers:
//
//   util → api → cache → manager → consumers (profiles, wait, node)
//
// lib/testing (the fake clock, the in-memory source and runtime, the embedded API server) sits
// above all of them and may use any; no production file imports it. lib/index.ts, the package's
// public surface, re-exports every production layer and nothing from lib/testing.
//
// Core ESLint's no-restricted-imports does this without a plugin or a module resolver: every
// import inside lib is relative, so a file's depth below lib/<layer>/ says how many `../` reach
// lib/, and a regular expression on the import's text names the layer it reaches. The parser is
// typescript-eslint's, so `import type` and `export ... from` count as imports too.
import tsParser from '@typescript-eslint/parser';

/** Each layer and the layers below it that it may import. */
const MAY_IMPORT = {
  util: [],
  api: ['util'],
  cache: ['util', 'api'],
  manager: ['util', 'api', 'cache'],
  profiles: ['util', 'api', 'cache', 'manager'],
  wait: ['util', 'api', 'cache', 'manager'],
  node: ['util', 'api', 'cache', 'manager'],
  testing: ['util', 'api', 'cache', 'manager', 'profiles', 'wait', 'node'],
};
const LAYERS = Object.keys(MAY_IMPORT);
/** Deepest folder below lib/<layer>/ that gets a rule (lib/node/containerd/ is 1). */
const MAX_DEPTH = 5;

const FLOW = 'layers import down the flow: util → api → cache → manager → consumers (profiles, wait, node); lib/testing is for tests only';

/** The restrictions for a file `depth` folders below lib/<layer>/ (0: directly in it). */
function boundaries(layer, depth) {
  const toLib = `(\\.\\./){${depth + 1}}`;
  const forbidden = LAYERS.filter((other) => other !== layer && !MAY_IMPORT[layer].includes(other));
  return [
    ...forbidden.map((other) => ({
      regex: `^${toLib}${other}(/|$)`,
      message: `lib/${layer} must not import lib/${other}: ${FLOW}.`,
    })),
    { regex: `^${toLib}\\.\\./`, message: `lib/${layer} must not import from outside lib/: the package ships lib alone.` },
  ];
}

export default [
  {
    files: ['lib/**/*.ts'],
    languageOptions: { parser: tsParser },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // The boundary rule reads static imports; lib has no other kind, and keeps it so.
      'no-restricted-syntax': [
        'error',
        { selector: 'ImportExpression', message: 'lib/ uses static imports only, so the layer boundaries can be checked.' },
        { selector: "CallExpression[callee.name='require']", message: 'lib/ uses static imports only, so the layer boundaries can be checked.' },
      ],
    },
  },
  ...LAYERS.flatMap((layer) =>
    Array.from({ length: MAX_DEPTH + 1 }, (_, depth) => ({
      files: [`lib/${layer}/${'*/'.repeat(depth)}*.ts`],
      rules: { 'no-restricted-imports': ['error', { patterns: boundaries(layer, depth) }] },
    })),
  ),
  {
    files: ['lib/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^\\./testing(/|$)', message: `the public surface must not export lib/testing: it is the refwatch/testing entry point. ${FLOW}.` },
            { regex: '^\\.\\./', message: 'lib/ must not import from outside lib/: the package ships lib alone.' },
          ],
        },
      ],
    },
  },
];
