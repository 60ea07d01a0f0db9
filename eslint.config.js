// Lint for the whole repository: typescript-eslint's strict, type-aware rules on every TypeScript
// file, with type information from tsconfig.json through the project service. Formatting is
// Prettier's job (.prettierrc.json), so no rule here is about layout. Where a rule is relaxed, the
// reason is beside it.
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'native/build/', 'out/', 'test/fixtures/', 'eslint.config.js', 'scripts/'] },
  eslint.configs.recommended,
  tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // tsconfig has noUncheckedIndexedAccess: numeric kernels index typed arrays in hot loops and
      // state that the index is in range with `!` (tests check the ranges)
      '@typescript-eslint/no-non-null-assertion': 'off',
      // numbers, bigints and booleans read well in messages; objects and nullish values do not
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // `() => doSomething()` as a callback is the idiom of the codebase
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // node:test's test() and describe() return promises the runner awaits itself
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] },
          ],
        },
      ],
    },
  },
);
