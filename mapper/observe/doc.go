// Package observe assembles what watches a streaming worker's records:
// DogStatsD metrics, Sentry alerts, the sample store and its failing-value
// profiles, the samples topic a group of workers shares, the dead-letter
// counter and the release controller's events. Where metrics and events
// go comes from the Datadog and Sentry SDKs' own variables (DD_AGENT_HOST,
// DD_DOGSTATSD_URL, SENTRY_DSN, …), read through the Getenv of Telemetry.
//
// Build starts them all and returns a Set to attach to the worker and to
// close after it stopped; on error nothing is left running. The package
// keeps no state.
package observe
