export * from './types';
export * from './errors';
export * from './atomic';
export * from './paths';
export * from './load';
export * from './manifest';
export * from './lock';
export * from './pipeline';
