export * from './connection';
export * from './jobs';
export * from './site-storage';
export * from './coordinator';
export * from './worker';
export * from './status';
