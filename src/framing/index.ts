export * from './constants.js';
export * from './errors.js';
export type * from './messages.js';
export * from './density-codec.js';
export * from './generator.js';
export * from './parser.js';
export * from './legacy.js';
export * from './detect.js';
export * from './hello-extensions.js';
