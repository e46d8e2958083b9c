/**
 * The service (Go Micro's `micro.Service`): server, client and plugins wired from code options, flags and
 * MICRO_* environment variables, with lifecycle hooks and graceful shutdown on SIGINT/SIGTERM.
 */
export { newService, type Service, type ServiceOptions, type Hook } from "./service.js";
export { exitOnStartFailure, failureText } from "./fatal.js";
