// The program stays thin: validate the configuration (before any resource exists), build the
// platform, export the output contract.
import { Platform } from "./components/platform";
import { stackOutputs } from "./components/platform/outputs";
import { loadStackConfig } from "./stacks/load";

const config = loadStackConfig();
const platform = new Platform(config.clusterName, { config });

export = stackOutputs(platform, config);
