// What other projects use from this lib, by name (everything else is internal).
export { connectQueue, describeQueue, QUEUE_URL_ENV, QueueError, queueUrl, redact, type QueueConnection } from './connection';
export { ensureQueue, queueTranscriber, type CoordinatorOptions } from './coordinator';
export { expirySeconds, jobId, jobKey, queueName, type JobResult, type TranscriptionJob } from './jobs';
export { formatQueueStatus, queueStatus, type QueueStatus, type SiteQueueStatus } from './status';
export { startWorker, type WorkerHandle, type WorkerOptions } from './worker';
