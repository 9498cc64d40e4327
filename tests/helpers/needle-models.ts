// Model directories for the engine tests, all real ONNX models run by onnxruntime-node:
//   - trainedModel(): models/default when it exists; until then a model exported into a temp dir from the
//     current training checkpoint (training/runs/main/last.pt) by training/export.py; or a skip reason.
//   - randomModel(): a small random-weight model with the 8k tokenizer (its first token is not <tool_call> and
//     its answers ramble into the decoder budget), for the paths a trained model rarely takes.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./daemon.js";

export const PYTHON = "/usr/bin/python3";
export const DEFAULT_MODEL = join(ROOT, "models", "default");
const CHECKPOINT = join(ROOT, "training", "runs", "main", "last.pt");
const CHECKPOINT_TOKENIZER = join(ROOT, "training", "runs", "tok", "needle.model");
const FIXTURE_TOKENIZER = join(ROOT, "tests", "fixtures", "tokenizer", "needle-8k.model");

export interface ModelHandle {
  dir: string;
  /** "default": models/default (the trained, shipped model); "checkpoint": exported from last.pt for this run. */
  kind: "default" | "checkpoint" | "random";
  cleanup(): void;
}

let torchOk: boolean | undefined;
function hasTorch(): boolean {
  torchOk ??= spawnSync(PYTHON, ["-c", "import torch, onnx"], { stdio: "ignore" }).status === 0;
  return torchOk;
}

function exportModel(args: string[], prefix: string): string {
  const out = join(mkdtempSync(join(tmpdir(), prefix)), "model");
  const r = spawnSync(PYTHON, [join(ROOT, "training", "export.py"), ...args, "--out", out], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`training/export.py failed (${r.status}): ${r.stderr}`);
  return out;
}

const removeParent = (dir: string) => () => rmSync(join(dir, ".."), { recursive: true, force: true });

/** The trained model, or why there is none here. */
export function trainedModel(): ModelHandle | { skip: string } {
  if (existsSync(join(DEFAULT_MODEL, "config.json"))) return { dir: DEFAULT_MODEL, kind: "default", cleanup: () => {} };
  if (!existsSync(CHECKPOINT) || !existsSync(CHECKPOINT_TOKENIZER)) {
    return { skip: "no models/default and no training checkpoint (training/runs/main/last.pt) to export one from" };
  }
  if (!hasTorch()) return { skip: `no models/default, and ${PYTHON} lacks torch + onnx to export the checkpoint` };
  const dir = exportModel(["--checkpoint", CHECKPOINT, "--tokenizer", CHECKPOINT_TOKENIZER, "--quant", "int8"], "needle-ckpt-");
  return { dir, kind: "checkpoint", cleanup: removeParent(dir) };
}

/** A small random-weight model with the real 8k tokenizer (max_decoder_len 64), or a skip reason. */
export function randomModel(): ModelHandle | { skip: string } {
  if (!hasTorch()) return { skip: `${PYTHON} lacks torch + onnx to export a random model` };
  const config = {
    d_model: 64, num_heads: 4, num_kv_heads: 2, head_dim: 16, encoder_layers: 2, decoder_layers: 2, vocab_size: 8192,
    retrieval_hidden: 32, retrieval_dim: 16, max_encoder_len: 1024, max_decoder_len: 64,
  };
  const dir = exportModel(["--random", "--config", JSON.stringify(config), "--tokenizer", FIXTURE_TOKENIZER,
    "--quant", "fp32"], "needle-rand-");
  return { dir, kind: "random", cleanup: removeParent(dir) };
}

/** The catalogue's declarations as the daemon hands them to the engine (name, description, parameters). */
export async function catalogue(): Promise<Array<{ name: string; description?: string; parameters?: unknown; examples?: string[] }>> {
  const { readFile } = await import("node:fs/promises");
  const out = [];
  // the order the plugin loader gives (plugin directories sorted by name)
  for (const plugin of ["navigation", "smarthome", "timers"]) {
    const decls = JSON.parse(await readFile(join(ROOT, "tools", plugin, "tools.json"), "utf8")) as Array<Record<string, unknown>>;
    for (const d of decls) out.push(d as { name: string; description?: string; parameters?: unknown; examples?: string[] });
  }
  return out;
}

/** The shared eval directory (beside the repository, or $NEEDLED_EVAL_DIR). */
export function evalDir(): string | undefined {
  const candidates = [process.env.NEEDLED_EVAL_DIR, join(ROOT, "..", "shared", "eval")].filter(Boolean) as string[];
  return candidates.find((d) => existsSync(join(d, "score.py")));
}
