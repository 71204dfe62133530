/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/tests"],
  testMatch: ["**/*.test.ts"],
  // The program reads the deployer's OS_* variables (stacks/deployer.ts): whoever runs the tests must not change them.
  setupFiles: ["<rootDir>/tests/setup-env.js"],
  transform: { "^.+\\.ts$": ["@swc/jest", { jsc: { target: "es2022" } }] },
  // Pulumi's mocks keep process-wide state: one worker per file isolates it; 2 cores → 2 workers.
  maxWorkers: 2,
  testTimeout: 20000,
  // examples/ and policy/ are projects of their own; under test they use the root's SDKs even if someone
  // ran `npm install` inside them, so the mocks apply to the one @pulumi/pulumi everything loads.
  moduleNameMapper: { "^@pulumi/(pulumi|kubernetes|command|policy)(/.*)?$": "<rootDir>/node_modules/@pulumi/$1$2" },
};
