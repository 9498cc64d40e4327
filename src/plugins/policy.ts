// Confirmation of sensitive tools. A call to a sensitive tool runs only when the prediction's confidence is
// above the configured threshold (default: never) or when the SAME device says yes within the window.
// Anything else from that device, or the window running out, cancels.
import type { ToolCall } from "../engine/types.js";
import type { ToolDefinition } from "./api.js";

export interface PendingConfirmation {
  device: string;
  calls: ToolCall[];
  /** "unlock back door" */
  what: string;
  utterance: string;
  expiresAt: number;
}

export type ConfirmationOutcome =
  | { kind: "none" }
  /** A yes with nothing pending (or after it expired). */
  | { kind: "nothing-to-confirm" }
  | { kind: "confirmed"; pending: PendingConfirmation }
  /** An explicit no. */
  | { kind: "declined"; pending: PendingConfirmation }
  /** Something else was said: the pending calls are dropped and the text is handled as new. */
  | { kind: "superseded"; pending: PendingConfirmation };

export interface PolicyOptions {
  windowMs: number;
  /** Confidence above which no confirmation is asked; null: always ask. */
  autoConfirmAbove: number | null;
  /** Called when a pending confirmation runs out (the daemon tells the device). */
  onExpire?: (pending: PendingConfirmation) => void;
}

const YES = new Set([
  "yes", "y", "yeah", "yep", "yup", "sure", "ok", "okay", "confirm", "confirmed", "do it", "yes do it",
  "yes please", "go ahead", "yes go ahead", "affirmative",
]);
const NO = new Set([
  "no", "n", "nope", "nah", "cancel", "stop", "dont", "don't", "do not", "no thanks", "never mind", "nevermind",
  "abort", "no dont", "no don't",
]);

export function normalizeAnswer(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}' ]+/gu, " ")
    .replace(/\s+/g, " ")
    .trim();
}

export const isYes = (text: string) => YES.has(normalizeAnswer(text));
export const isNo = (text: string) => NO.has(normalizeAnswer(text));

export function isSensitive(def: ToolDefinition, args: Record<string, unknown>): boolean {
  if (typeof def.sensitive === "function") {
    try {
      return def.sensitive(args) === true;
    } catch {
      return true; // when the plugin cannot tell, ask
    }
  }
  return def.sensitive === true;
}

/** "unlock" + {target: "back door"} -> "unlock back door" (or the tool's own describe()). */
export function describeCall(def: ToolDefinition | undefined, call: ToolCall): string {
  if (def?.describe) {
    try {
      const s = def.describe(call.arguments);
      if (typeof s === "string" && s.trim()) return s.trim();
    } catch {
      /* fall back */
    }
  }
  const values = Object.values(call.arguments ?? {})
    .filter((v) => v !== null && v !== undefined && typeof v !== "object")
    .map(String);
  return [call.name.replace(/_/g, " "), ...values].join(" ");
}

export class ConfirmationPolicy {
  private readonly pending = new Map<string, PendingConfirmation & { timer: NodeJS.Timeout }>();

  constructor(private readonly opts: PolicyOptions) {}

  /** Does this call need a yes first? */
  needsConfirmation(def: ToolDefinition, args: Record<string, unknown>, confidence: number | undefined): boolean {
    if (!isSensitive(def, args)) return false;
    const above = this.opts.autoConfirmAbove;
    return !(above !== null && confidence !== undefined && confidence > above);
  }

  /** Holds calls for `device` until it confirms (replacing anything it had pending). */
  hold(device: string, calls: ToolCall[], what: string, utterance: string): PendingConfirmation {
    this.drop(device);
    const expiresAt = Date.now() + this.opts.windowMs;
    const timer = setTimeout(() => {
      const p = this.pending.get(device);
      if (p?.timer !== timer) return;
      this.pending.delete(device);
      this.opts.onExpire?.(strip(p));
    }, this.opts.windowMs);
    timer.unref();
    const entry = { device, calls, what, utterance, expiresAt, timer };
    this.pending.set(device, entry);
    return strip(entry);
  }

  /** What a new utterance from `device` means for its pending confirmation (consumes it). */
  answer(device: string, text: string): ConfirmationOutcome {
    const p = this.pending.get(device);
    const live = p && p.expiresAt > Date.now() ? p : undefined;
    if (!live) {
      if (p) this.drop(device);
      return isYes(text) ? { kind: "nothing-to-confirm" } : { kind: "none" };
    }
    this.drop(device);
    const pending = strip(live);
    if (isYes(text)) return { kind: "confirmed", pending };
    if (isNo(text)) return { kind: "declined", pending };
    return { kind: "superseded", pending };
  }

  pendingFor(device: string): PendingConfirmation | undefined {
    const p = this.pending.get(device);
    return p ? strip(p) : undefined;
  }

  clear(): void {
    for (const d of [...this.pending.keys()]) this.drop(d);
  }

  private drop(device: string): void {
    const p = this.pending.get(device);
    if (p) clearTimeout(p.timer);
    this.pending.delete(device);
  }
}

function strip(p: PendingConfirmation & { timer?: NodeJS.Timeout }): PendingConfirmation {
  const { timer: _t, ...rest } = p;
  return rest;
}
