/**
 * The event sinks' defaults, in a module that loads nothing: the CLI's option
 * help needs them, and importing the sinks themselves would load the MQTT
 * client into every command's start-up.
 */

export const DEFAULT_MQTT_TOPIC_PREFIX = 'crowdline';
/** A minute of transitions for a busy site (several zones, two levels) at broker restart; each is ~250 bytes. */
export const DEFAULT_MQTT_MAX_QUEUED_ALERTS = 1000;
/** Zone counts and line crossings go out at most this often per zone or line (alerts go out at once). */
export const DEFAULT_ZONE_PUBLISH_INTERVAL_MS = 1000;
