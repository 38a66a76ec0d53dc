// Child process hosting smart-whisper's native addon, so a native crash (abort, segfault, OOM kill)
// fails the one episode being transcribed, never the whole run. Plain JavaScript on purpose: it is
// forked with plain `node`, with no TypeScript loader needed.
//
// Protocol (IPC, advanced serialisation so Float32Arrays travel as binary):
//   parent → {type:'load', model}                          child → {type:'loaded'} | {type:'error', message}
//   parent → {type:'transcribe', id, pcm, params}           child → {type:'progress', id, ms}… then
//                                                           {type:'result', id, segments} | {type:'error', id, message}
//   parent → {type:'free'}                                  child frees the model and exits 0
'use strict';
const { WhisperModel, TranscribeTask } = require('smart-whisper');

let model = null;

async function handle(msg) {
  switch (msg.type) {
    case 'load':
      model = await WhisperModel.load(msg.model, false);
      process.send({ type: 'loaded' });
      return;
    case 'transcribe': {
      if (!model) throw new Error('no model loaded');
      const task = await TranscribeTask.run(model, msg.pcm, { ...msg.params, format: 'simple' });
      // Each new segment tells how far into the window whisper is.
      task.on('transcribed', (r) => process.send({ type: 'progress', id: msg.id, ms: r.to }));
      const results = await task.result;
      // smart-whisper hands over the Error of a failed whisper_full where the results would be.
      if (!Array.isArray(results)) throw results instanceof Error ? results : new Error(String(results));
      // whisper.cpp gives centiseconds; the binding multiplies by 10: integral milliseconds.
      const segments = results.map((r) => ({ startMs: r.from, endMs: r.to, text: r.text }));
      process.send({ type: 'result', id: msg.id, segments });
      return;
    }
    case 'free':
      // smart-whisper keeps the event loop alive until the model is freed.
      if (model) await model.free();
      model = null;
      process.disconnect();
      return;
    default:
      throw new Error(`unknown message ${msg.type}`);
  }
}

process.on('message', (msg) => {
  handle(msg).catch((err) => {
    process.send({ type: 'error', id: msg.id, message: (err && err.message) || String(err) });
  });
});
process.on('disconnect', () => {
  // Parent went away (or asked us to free and go): leave at once, the OS reclaims the model's memory.
  process.exit(0);
});
