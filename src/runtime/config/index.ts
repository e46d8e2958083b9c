/**
 * Configuration from the command line and the environment (Go Micro's global flags and `MICRO_*`
 * variables), and the plugin tables that turn names into implementations. Shared with the `micro` command.
 */
export { globalFlags, readConfig, parseDuration, type ConfigValues, type FlagDefinition } from "./flags.js";
export {
  resolvePlugins,
  checkPluginNames,
  addressList,
  registryPlugins,
  transportPlugins,
  peerTransport,
  brokerPlugins,
  selectorPlugins,
  defaultPlugins,
  transportOptionsFrom,
  type TransportFactoryOptions,
  type Plugins,
  type PluginContext,
  type RegistryFactory,
  type TransportFactory,
  type BrokerFactory,
  type SelectorFactory,
} from "./plugins.js";
export { checkPluginAddresses } from "./addresses.js";
