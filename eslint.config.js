// ESLint (issue 12 item 9): `npm run lint`, in `npm test` right after format:check. Prettier owns the layout
// (eslint-config-prettier turns off every rule that would fight it) and dependency-cruiser the layer rules
// (.dependency-cruiser.cjs). Type-aware, because the promise rules need the types to see a promise nobody owns.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'node_modules/',
      'test/.cache/',
      'test/go/',
      'manifests/',
      'krew/',
      'coverage/',
      'bench/.out/',
      'bench/results/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      // `_name`: a parameter or rest sibling left out on purpose (`{ secret: _s, ...rest }`).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
    },
  },
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Every promise has an owner: awaited, returned, or handed to something that handles its rejection.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    // The engine and the runner sort with shared/order.ts: localeCompare loads ICU's collation data, about 2 MiB of
    // the node binary's pages that then stay in the runner's resident set (issue 9, runner peak RSS).
    files: ['shared/**/*.ts', 'runner/**/*.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          property: 'localeCompare',
          message: "Use byCodeUnits from shared/order.ts (localeCompare loads ICU's collation data into the runner).",
        },
        ...['toLocaleString', 'toLocaleDateString', 'toLocaleTimeString'].map((property) => ({
          property,
          message: "Format explicitly (toISOString, toFixed): locale formatting loads ICU's data into the runner.",
        })),
      ],
      'no-restricted-globals': [
        'error',
        { name: 'Intl', message: "Intl loads ICU's data into the runner (a Segmenter +2.4 MiB, docs/benchmarks.md)." },
      ],
    },
  },
  {
    // Tests read kubectl's and the simulator's JSON loosely.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Injected into the single executable's CommonJS bundle: require() is the only way in there.
    files: ['scripts/sea-shims.mjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
