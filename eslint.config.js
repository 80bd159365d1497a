import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

// The layers of shared/src, from the bottom up: a layer imports only the layers below it, so that
// imports flow one way: services → features → runs/rules → engine/storage/crypto/infra → nothing above.
const shared = (dir) => `./shared/src/${dir}`;
const layers = {
  infra: ['crypto'],
  crypto: [],
  storage: ['infra'],
  engine: ['infra', 'storage', 'crypto'],
  rules: ['infra'],
  runs: ['infra'],
};
const above = (layer) => ['features', 'runs', 'rules', 'engine', 'storage', 'infra', 'crypto'].filter((dir) => dir !== layer && !layers[layer].includes(dir));

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'shared/src/generated/**', 'services/web/dist/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', fetch: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    // No import circle, and no import that runs back up a layer (see `layers` above).
    files: ['shared/src/**/*.ts', 'services/*/src/**/*.{ts,tsx}'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.tsx', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: ['tsconfig.json', 'shared/tsconfig.json', 'services/*/tsconfig.json'], noWarnOnMultipleProjects: true })],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            ...Object.keys(layers).map((layer) => ({
              target: shared(layer),
              from: above(layer).map(shared),
              message: `shared/src/${layer} sits below these layers: import from it, never into it.`,
            })),
            { target: './shared/src', from: './services', message: 'shared/ is below the services.' },
          ],
        },
      ],
      // Schedulers go through scheduleJob (features/catalog.ts), which applies the catalog's options.
      'no-restricted-syntax': ['error', { selector: "CallExpression[callee.property.name='upsertJobScheduler']", message: 'Schedule jobs with scheduleJob() of features/catalog.ts: it applies the catalog’s options and payload schema.' }],
    },
  },
  {
    files: ['shared/src/infra/jobs/queues.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
