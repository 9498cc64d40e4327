// V8 flags for every node process that serves the model: the daemon (package.json `start`, the `needled` bin's
// shebang, the systemd unit's ExecStart) and the benchmarks' measuring children. Keep those places in step with
// this list (tests/node-flags.test.ts checks them).
//
// --max-semi-space-size=1: Node 20 grows V8's young generation to 16 MB semi-spaces (~48 MB reserved and touched)
// when a burst of short-lived objects arrives — loading the tokenizer and building the grammar vocabulary is
// one — and keeps it. 1 MB semi-spaces measured on this box (bench/predict-latency.ts children, whole catalogue):
// models/default peak RSS 215 -> 164 MB, load 135 -> 115 MB; random 26M int8 peak 257 -> 222 MB; p50 latency
// unchanged within the noise (2 and 4 MB: peaks 182/178 MB for models/default).
//
// --expose-gc: the engine (src/engine/onnx-model.ts) runs young-generation GCs (~0.1-0.2 ms each) while and
// after it copies the encoder's outputs into its reusable K/V buffer, so onnxruntime-node's JS copies of them
// (1-2 MB per decoder layer) are freed at once instead of piling up until V8's next full GC. Without the flag
// the engine works the same, only without those GCs. Measured (bench engine-speed, random 26M int8, cross.onnx):
// peak RSS while encoding 512 tokens 170-175 -> 142-145 MB, 1024 tokens 217-233 -> 183-185 MB.
export const NODE_FLAGS: readonly string[] = ["--max-semi-space-size=1", "--expose-gc"];

// Environment for the same processes (the same places set it: the shebang through `env -S`, `npm start`, the
// unit's Environment=, the benchmarks' children; tests/node-flags.test.ts checks them).
//
// MALLOC_ARENA_MAX=1: glibc gives each thread that allocates its own malloc arena (up to 8 per core), and
// onnxruntime's pool threads allocate; every arena keeps freed memory for reuse, so the same working set is held
// several times. One arena, measured (bench engine-speed, random 26M int8, mha encoder, 2 runs each): serving
// peak 173-174 -> 161-162 MB, encoding 1024 tokens 156-163 -> 153-156 MB, prefill and decode speed unchanged
// within the noise (the engine runs one request at a time, so there is no lock contention to speak of).
export const NODE_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: "1" };
