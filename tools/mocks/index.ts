/**
 * The one offline engine: the program (or the consumer example) under the Pulumi SDK's mocks, with
 * what the cloud would compute made up deterministically. `npm run plan`, the benchmark, the tests
 * and the bootstrap ring use it.
 */
export { fakeId, fakePublicAddress } from "./cloud";
export {
  freshKeySalt,
  type MockFixtures,
  type MockRun,
  type MockRunOptions,
  type RecordedResource,
  runUnderMocks,
} from "./engine";
