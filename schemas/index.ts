export * from './metrics.ts';
export * from './observation.ts';
export * from './device.ts';
export * from './native-telemetry.ts';
export * from './dead-letter.ts';
export * from './device-profile.ts';
export * from './time-zone.ts';
export * from './broker-account.ts';
