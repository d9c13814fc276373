// Jest in ESM mode, as the actions/typescript-action template runs it.
export default {
  clearMocks: true,
  collectCoverageFrom: ['src/**/*.ts', '!src/*/index.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  // An in-process stand-in or SDK client can keep a socket alive after its
  // suite closed it; CI must end when the tests end, not at its time limit.
  forceExit: true,
  moduleFileExtensions: ['ts', 'js', 'json'],
  preset: 'ts-jest',
  resolver: 'ts-jest-resolver',
  testEnvironment: 'node',
  testMatch: ['**/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', useESM: true }]
  },
  verbose: true
}
