// Vosk through its C API (libvosk), called with koffi.
//
// Why koffi directly and not vosk-koffi's classes: vosk-koffi opens libvosk from one fixed path (its own
// bin-<platform>-<arch>/ folder, filled by a postinstall download that this project denies) at import time,
// and its import throws when the file is not there. needled must find the library in several places
// (a configured path first) and must keep running without it, so it resolves the path itself (below) and
// declares the same few C functions (vosk_api.h) through koffi, the FFI library vosk-koffi is built on.
// vosk-koffi stays a dependency: its download folder is one of the places looked in.
//
// libvosk is looked for, in order:
//   1. voice.libvosk (a file, or a folder holding libvosk.so); when set, only there;
//   2. vosk-koffi's own download location (node_modules/vosk-koffi/bin-<platform>-<arch>/), filled on a
//      user's machine by `node node_modules/vosk-koffi/scripts/postinstall.js`;
//   3. on Linux x86-64, the library bundled in the `vosk` npm package (an optional dependency installed with
//      its scripts denied: only its lib/linux-x86_64/libvosk.so is used, never its ffi-napi binding).
import { existsSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, resolve } from "node:path";
import koffi from "koffi";
import type { RecognizedText, Recognizer, RecognizerOptions, SpeechModel } from "./recognizer.js";
import { VoiceUnavailable } from "./recognizer.js";

const require = createRequire(import.meta.url);

const LIB_NAME = process.platform === "win32" ? "libvosk.dll" : process.platform === "darwin" ? "libvosk.dylib" : "libvosk.so";

export interface LibraryCandidate {
  path: string;
  source: "config" | "vosk-koffi" | "vosk";
}

export type LibraryLookup = { found: LibraryCandidate; looked: LibraryCandidate[] } | { found?: undefined; looked: LibraryCandidate[] };

/** Where libvosk would be, in search order (existing or not). */
export function libraryCandidates(configured?: string): LibraryCandidate[] {
  if (configured) {
    const p = resolve(configured);
    const isDir = existsSync(p) && statSync(p).isDirectory();
    return [{ path: isDir ? join(p, LIB_NAME) : p, source: "config" }];
  }
  const out: LibraryCandidate[] = [];
  try {
    const main = require.resolve("vosk-koffi"); // .../vosk-koffi/lib/index.js
    out.push({ path: join(dirname(main), "..", `bin-${process.platform}-${process.arch}`, LIB_NAME), source: "vosk-koffi" });
  } catch {
    // not installed
  }
  if (process.platform === "linux" && process.arch === "x64") {
    try {
      const pkg = require.resolve("vosk/package.json");
      out.push({ path: join(dirname(pkg), "lib", "linux-x86_64", LIB_NAME), source: "vosk" });
    } catch {
      // the optional dependency is absent
    }
  }
  return out;
}

export function findLibrary(configured?: string): LibraryLookup {
  const looked = libraryCandidates(configured);
  const found = looked.find((c) => existsSync(c.path));
  return found ? { found, looked } : { looked };
}

/** What to do when no libvosk is found (one line, for doctor and the daemon's log). */
export function libraryAdvice(lookup: LibraryLookup, configured?: string): string {
  if (configured) return `voice.libvosk: ${lookup.looked[0]?.path} does not exist`;
  const where = lookup.looked.map((c) => c.path).join(", ") || "(no candidate locations)";
  const arch = `${process.platform}-${process.arch}`;
  const fix =
    arch === "linux-x64"
      ? "reinstall with optional dependencies (npm install --include=optional; it brings the vosk package's libvosk.so)"
      : "run `node node_modules/vosk-koffi/scripts/postinstall.js` on a machine with internet (it downloads libvosk for this platform)";
  return `no libvosk found (looked in ${where}); ${fix}, or set voice.libvosk to a libvosk.so`;
}

interface VoskApi {
  path: string;
  setLogLevel(level: number): void;
  modelNew: koffi.KoffiFunction;
  modelFree: koffi.KoffiFunction;
  recognizerNew: koffi.KoffiFunction;
  recognizerNewGrm: koffi.KoffiFunction;
  recognizerFree: koffi.KoffiFunction;
  setWords: koffi.KoffiFunction;
  acceptWaveform: koffi.KoffiFunction;
  result: koffi.KoffiFunction;
  partialResult: koffi.KoffiFunction;
  finalResult: koffi.KoffiFunction;
  reset: koffi.KoffiFunction;
}

let types: { model: koffi.IKoffiCType; recognizer: koffi.IKoffiCType } | undefined;
const loaded = new Map<string, VoskApi>();

/** Opens libvosk at `path` (once per path per process); a clear VoiceUnavailable when it cannot. */
export function loadLibrary(path: string): VoskApi {
  const cached = loaded.get(path);
  if (cached) return cached;
  if (!existsSync(path)) throw new VoiceUnavailable(`libvosk: ${path} does not exist`, "library");
  types ??= { model: koffi.opaque("VoskModel"), recognizer: koffi.opaque("VoskRecognizer") };
  let lib: koffi.IKoffiLib;
  try {
    lib = koffi.load(path);
  } catch (err) {
    throw new VoiceUnavailable(`libvosk: cannot load ${path} (${(err as Error).message.split("\n")[0]})`, "library");
  }
  try {
    const api: VoskApi = {
      path,
      setLogLevel: lib.func("void vosk_set_log_level(int log_level)") as (level: number) => void,
      modelNew: lib.func("VoskModel *vosk_model_new(const char *model_path)"),
      modelFree: lib.func("void vosk_model_free(VoskModel *model)"),
      recognizerNew: lib.func("VoskRecognizer *vosk_recognizer_new(VoskModel *model, float sample_rate)"),
      recognizerNewGrm: lib.func("VoskRecognizer *vosk_recognizer_new_grm(VoskModel *model, float sample_rate, const char *grammar)"),
      recognizerFree: lib.func("void vosk_recognizer_free(VoskRecognizer *recognizer)"),
      setWords: lib.func("void vosk_recognizer_set_words(VoskRecognizer *recognizer, int words)"),
      acceptWaveform: lib.func("int vosk_recognizer_accept_waveform(VoskRecognizer *recognizer, const char *data, int length)"),
      result: lib.func("const char *vosk_recognizer_result(VoskRecognizer *recognizer)"),
      partialResult: lib.func("const char *vosk_recognizer_partial_result(VoskRecognizer *recognizer)"),
      finalResult: lib.func("const char *vosk_recognizer_final_result(VoskRecognizer *recognizer)"),
      reset: lib.func("void vosk_recognizer_reset(VoskRecognizer *recognizer)"),
    };
    loaded.set(path, api);
    return api;
  } catch (err) {
    throw new VoiceUnavailable(`libvosk: ${path} lacks the Vosk C API (${(err as Error).message.split("\n")[0]})`, "library");
  }
}

export interface ModelCheck {
  ok: boolean;
  /** What is wrong, with what to do. */
  problem?: string;
  /** The model's sample rate (conf/mfcc.conf --sample-frequency, else 16000). */
  sampleRate: number;
}

/** Does `dir` look like a Vosk model? (Layout only; libvosk judges the contents.) */
export function checkModelDir(dir: string): ModelCheck {
  const setup = "run `needled voice setup` to download the small English model, or set voice.model";
  if (!existsSync(dir)) return { ok: false, problem: `${dir} does not exist; ${setup}`, sampleRate: 16000 };
  if (!statSync(dir).isDirectory()) return { ok: false, problem: `${dir} is not a directory; ${setup}`, sampleRate: 16000 };
  const v2 = existsSync(join(dir, "am", "final.mdl")) && existsSync(join(dir, "conf", "model.conf"));
  const v1 = existsSync(join(dir, "final.mdl")) && existsSync(join(dir, "mfcc.conf"));
  if (!v2 && !v1) {
    return {
      ok: false,
      problem: `${dir} is not a Vosk model (no am/final.mdl with conf/model.conf); ${setup}`,
      sampleRate: 16000,
    };
  }
  let sampleRate = 16000;
  for (const conf of [join(dir, "conf", "mfcc.conf"), join(dir, "mfcc.conf")]) {
    try {
      const m = /--sample-frequency=(\d+)/.exec(readFileSync(conf, "utf8"));
      if (m) sampleRate = Number(m[1]);
      break;
    } catch {
      // try the next layout
    }
  }
  return { ok: true, sampleRate };
}

export interface OpenVoskOptions {
  modelDir: string;
  /** voice.libvosk; otherwise the search order above. */
  libvosk?: string;
  /** Kaldi's log level: -1 errors only (default), 0 info. */
  logLevel?: number;
}

/** Loads libvosk and the model; throws VoiceUnavailable saying what is missing or broken. */
export async function openVosk(opts: OpenVoskOptions): Promise<SpeechModel> {
  const lookup = findLibrary(opts.libvosk);
  if (!lookup.found) throw new VoiceUnavailable(libraryAdvice(lookup, opts.libvosk), "library");
  const dir = resolve(opts.modelDir);
  const check = checkModelDir(dir);
  if (!check.ok) throw new VoiceUnavailable(`voice.model: ${check.problem}`, "model");
  const api = loadLibrary(lookup.found.path); // only now: a text-only daemon does not map 26 MB for nothing
  api.setLogLevel(opts.logLevel ?? -1);
  // Loading takes a second or more on a Pi: off the event loop.
  const handle = await new Promise<unknown>((resolve, reject) =>
    api.modelNew.async(dir, (err: unknown, h: unknown) => (err ? reject(err) : resolve(h))),
  );
  if (!handle) {
    throw new VoiceUnavailable(
      `voice.model: libvosk could not load the model in ${dir} (damaged or not a Vosk model; Kaldi's reason is on stderr); ` +
        "run `needled voice setup` again",
      "model",
    );
  }
  return new VoskModel(api, handle, check.sampleRate, `${basename(dir)} via ${lookup.found.path} (${lookup.found.source})`);
}

class VoskModel implements SpeechModel {
  private closed = false;
  private readonly recognizers = new Set<VoskRecognizer>();

  constructor(
    private readonly api: VoskApi,
    private readonly handle: unknown,
    readonly sampleRate: number,
    readonly description: string,
  ) {}

  createRecognizer(opts: RecognizerOptions = {}): Recognizer {
    if (this.closed) throw new Error("the Vosk model is closed");
    const h = opts.grammar
      ? this.api.recognizerNewGrm(this.handle, this.sampleRate, JSON.stringify(opts.grammar))
      : this.api.recognizerNew(this.handle, this.sampleRate);
    if (!h) throw new Error(opts.grammar ? "libvosk refused the grammar (this model may not support grammars)" : "libvosk could not create a recognizer");
    this.api.setWords(h, 1); // per-word confidences in the final result
    const r = new VoskRecognizer(this.api, h, this.sampleRate, () => this.recognizers.delete(r));
    this.recognizers.add(r);
    return r;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const r of [...this.recognizers]) r.close();
    this.api.modelFree(this.handle); // reference-counted by libvosk
  }
}

class VoskRecognizer implements Recognizer {
  private closed = false;
  /** Text of segments Vosk closed by itself inside one of our utterances (a long pause). */
  private done: string[] = [];

  constructor(
    private readonly api: VoskApi,
    private readonly handle: unknown,
    readonly sampleRate: number,
    private readonly onClose: () => void,
  ) {}

  async accept(pcm: Int16Array): Promise<void> {
    if (this.closed || pcm.length === 0) return;
    const bytes = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    const endpoint = await new Promise<number>((resolve, reject) =>
      // On a worker thread: decoding must not stall the daemon's event loop. `bytes` lives until the callback.
      this.api.acceptWaveform.async(this.handle, bytes, bytes.length, (err: unknown, r: number) => (err ? reject(err) : resolve(r))),
    );
    if (endpoint === 1) {
      const text = parseText(this.api.result(this.handle) as string, "text");
      if (text) this.done.push(text);
    }
  }

  partial(): string {
    if (this.closed) return "";
    return [...this.done, parseText(this.api.partialResult(this.handle) as string, "partial")].filter(Boolean).join(" ");
  }

  async finish(): Promise<RecognizedText> {
    if (this.closed) return { text: "" };
    const raw = this.api.finalResult(this.handle) as string;
    const text = [...this.done, parseText(raw, "text")].filter(Boolean).join(" ");
    this.done = [];
    this.api.reset(this.handle);
    const conf = parseConfidence(raw);
    return conf === undefined ? { text } : { text, confidence: conf };
  }

  reset(): void {
    if (this.closed) return;
    this.done = [];
    this.api.reset(this.handle);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.api.recognizerFree(this.handle);
    this.onClose();
  }
}

function parseText(json: string | null, key: "text" | "partial"): string {
  if (!json) return "";
  try {
    const v = (JSON.parse(json) as Record<string, unknown>)[key];
    return typeof v === "string" ? v : "";
  } catch {
    return "";
  }
}

function parseConfidence(json: string | null): number | undefined {
  try {
    const words = (JSON.parse(json ?? "{}") as { result?: Array<{ conf?: number }> }).result;
    if (!words?.length) return undefined;
    return words.reduce((s, w) => s + (w.conf ?? 0), 0) / words.length;
  } catch {
    return undefined;
  }
}
