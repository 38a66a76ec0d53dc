// Test helpers (not for production code): generated whisper.cpp-format models.
export { QUANTIZED_FTYPE, REALISTIC_HPARAMS, TINY_TEST_HPARAMS, whisperTensorSpecs, writeTestModel, type TestModelOptions } from './ggml-writer';
