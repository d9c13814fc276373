import js from '@eslint/js'
import jest from 'eslint-plugin-jest'
import prettier from 'eslint-config-prettier'
import tseslint from 'typescript-eslint'

// Kebab-case file names, as codeql-action enforces; `.test` and `.e2e.test` suffixes allowed,
// and `.d.ts` declarations.
const kebabCase = {
  meta: { type: 'suggestion', schema: [] },
  create(context) {
    const base = context.filename
      .split('/')
      .pop()
      .replace(/(\.d)?\.[cm]?[jt]s$/, '')
    return {
      Program(node) {
        if (!/^[a-z0-9-]+(\.e2e)?(\.test)?$/.test(base)) {
          context.report({
            node,
            message: `file name "${base}" is not kebab-case`
          })
        }
      }
    }
  }
}

export default tseslint.config(
  {
    ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'bench/results/**']
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname
      }
    },
    plugins: { local: { rules: { 'kebab-case-file': kebabCase } } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_' }
      ],
      'local/kebab-case-file': 'error'
    }
  },
  {
    ...jest.configs['flat/recommended'],
    files: ['test/**/*.test.ts'],
    rules: {
      ...jest.configs['flat/recommended'].rules,
      'jest/no-conditional-expect': 'off',
      'jest/expect-expect': 'off'
    }
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly' }
    }
  },
  prettier
)
