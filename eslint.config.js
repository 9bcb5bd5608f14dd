// ESLint flat config: typescript-eslint's type-checked rules over every TypeScript file the type check covers.
// A rule is turned off or relaxed here only with the reason beside it.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['dist/', 'node_modules/', 'data/', 'grafana/dashboards/', 'bench/results/', 'coverage/'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // Async without await is deliberate here: Fastify plugins and handlers are written async (Fastify's own
      // style, no done callback), and Store methods implement a Promise interface so a synchronous throw reaches
      // the caller as a rejection. Floating and misused promises stay errors.
      '@typescript-eslint/require-await': 'off',
      // A leading underscore marks a binding kept on purpose (a callback's position, a field dropped by
      // destructuring `{ dropped: _dropped, ...rest }`).
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
    },
  },
  {
    // Plain JavaScript (this file, bin/) is not part of the TypeScript program.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
