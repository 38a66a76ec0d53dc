// Test helpers (not for production code): generated audio.
export { makeTone } from './audio';
