/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/tests"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["@swc/jest", { jsc: { target: "es2022" } }] },
  // Pulumi's mocks keep process-wide state: one worker per file isolates it; 2 cores → 2 workers.
  maxWorkers: 2,
  testTimeout: 20000,
};
