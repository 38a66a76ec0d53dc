export * from './env';
export * from './errors';
export * from './sessions';
export * from './lambda';
