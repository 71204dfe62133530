// Runs before every test file: the tests see no OpenStack credentials of whoever runs them
// (stacks/deployer.ts reads OS_* and, given a cloud name, clouds.yaml).
for (const name of Object.keys(process.env)) {
  if (name.startsWith("OS_")) delete process.env[name];
}
