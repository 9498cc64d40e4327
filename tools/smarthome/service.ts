// The smarthome tools: resolve the target, send the command, wait for the echoes, and say what happened.
import type { Logger, PluginContext, Reply } from "../../src/plugins/api.js";
import { ToolError } from "../../src/plugins/api.js";
import { parseColor } from "./colors.js";
import type { Action } from "./commands.js";
import { parseConfigDevices, type Device, type DeviceType } from "./devices.js";
import { resolveTarget, words } from "./match.js";
import { Registry, type Result } from "./registry.js";

export interface SmartHomeConfig {
  base: string;
  discoveryPrefix: string;
  areas: Record<string, string>;
  devices: Device[];
  answerTimeoutMs: number;
  minTemperature: number;
  maxTemperature: number;
}

export function readConfig(raw: Readonly<Record<string, unknown>>): { config: SmartHomeConfig; problems: string[] } {
  const problems: string[] = [];
  const text = (key: string, dflt: string): string => {
    const v = raw[key];
    if (v === undefined) return dflt;
    if (typeof v === "string" && v && !/[#+]/.test(v)) return v.replace(/\/+$/, "");
    problems.push(`plugins.smarthome.${key} must be a topic without wildcards`);
    return dflt;
  };
  const areas: Record<string, string> = {};
  if (raw.areas && typeof raw.areas === "object") {
    // {kitchen: ["Pantry light", ...]} -> friendly name -> area
    for (const [area, names] of Object.entries(raw.areas as Record<string, unknown>)) {
      if (!Array.isArray(names)) {
        problems.push(`plugins.smarthome.areas.${area} must be a list of device names`);
        continue;
      }
      for (const n of names) if (typeof n === "string") areas[n.toLowerCase()] = area;
    }
  }
  const { devices, problems: deviceProblems } = parseConfigDevices(raw.devices);
  problems.push(...deviceProblems);
  const num = (key: string, dflt: number, positive = false): number => {
    const v = raw[key];
    if (v === undefined) return dflt;
    if (typeof v === "number" && Number.isFinite(v) && (!positive || v > 0)) return v;
    problems.push(`plugins.smarthome.${key} must be a ${positive ? "positive " : ""}number, not ${JSON.stringify(v)} (using ${dflt})`);
    return dflt;
  };
  return {
    config: {
      base: text("base", "zigbee2mqtt"),
      discoveryPrefix: text("discoveryPrefix", "homeassistant"),
      areas,
      devices,
      answerTimeoutMs: num("answerTimeoutMs", 2500, true),
      minTemperature: num("minTemperature", 5),
      maxTemperature: num("maxTemperature", 30),
    },
    problems,
  };
}

const ON_OFF: DeviceType[] = ["light", "switch", "fan"];
const ROOM: DeviceType[] = ["light", "switch"];
const KIND_NOUN: Partial<Record<DeviceType, string>> = { lock: "lock", cover: "cover", climate: "thermostat", scene: "scene", light: "light" };

const lower = (name: string) => name.toLowerCase();
const the = (d: Device) => `the ${lower(d.name)}`;

function listWords(items: string[]): string {
  return items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** "kitchen lights" as the user said it, without articles; made plural for a count above one. */
function phraseFor(target: string | undefined, devices: Device[], areaOnly: boolean, kind?: DeviceType): string {
  if (areaOnly && devices[0]?.area) return `devices in the ${lower(devices[0].area)}`;
  const said = words(target ?? "").join(" ");
  const room = devices.find((d) => d.area && words(d.area).join(" ") === said)?.area;
  if (said && room) return `devices in the ${lower(room)}`;
  const p = (target ?? "")
    .toLowerCase()
    .replace(/[^\p{L}\p{N} ]+/gu, " ")
    .split(/\s+/)
    .filter((w) => w && !["the", "a", "an", "my", "all", "our"].includes(w))
    .join(" ");
  if (!p) return `${KIND_NOUN[kind ?? devices[0]!.type] ?? "device"}s`;
  return /s$/.test(p) ? p : `${p}s`;
}

/** The reply for a finished command: who did it, who did not answer, who can't do it. */
export function composeReply(verb: string, suffix: string, target: string | undefined, areaOnly: boolean, results: Result[]): Reply {
  const done = results.filter((r) => r.outcome === "ok" || r.outcome === "sent");
  const silent = results.filter((r) => r.outcome === "no-answer");
  const cannot = results.filter((r) => r.outcome === "unsupported");
  const failed = results.filter((r) => r.outcome === "failed");
  const n = results.length;
  const phrase = phraseFor(target, results.map((r) => r.device), areaOnly);
  const data = {
    devices: results.map((r) => ({ id: r.device.id, name: r.device.name, outcome: r.outcome, ...(r.reason ? { reason: r.reason } : {}) })),
  };
  const notes: string[] = [];
  if (silent.length > 0) {
    notes.push(`${listWords(silent.map((r) => the(r.device)))} didn't answer`);
  }
  for (const r of cannot) notes.push(`${the(r.device)} ${r.reason}`);
  if (failed.length > 0) notes.push(`couldn't send to ${listWords(failed.map((r) => the(r.device)))} (${failed[0]!.reason})`);

  if (done.length === 0) {
    let say: string;
    if (n === 1) say = `${capitalize(notes[0] ?? `${the(results[0]!.device)} didn't answer`)}.`;
    else if (silent.length === n) say = `None of the ${n} ${phrase} answered.`;
    else say = `${capitalize(notes.join("; "))}.`;
    throw new ToolError(say, data);
  }
  const object = n === 1 ? the(done[0]!.device) : done.length === n ? `${n} ${phrase}` : `${done.length} of ${n} ${phrase}`;
  const say = `${verb} ${object}${suffix}${notes.length ? `; ${notes.join("; ")}` : ""}.`;
  return { say, data };
}

function capitalize(s: string): string {
  return s ? s[0]!.toUpperCase() + s.slice(1) : s;
}

export class SmartHome {
  readonly registry: Registry;

  constructor(
    private readonly ctx: Pick<PluginContext, "mqtt" | "log">,
    readonly config: SmartHomeConfig,
  ) {
    this.registry = new Registry(ctx.mqtt, { ...config, configDevices: config.devices }, ctx.log);
  }

  private async find(target: string | undefined, kinds: DeviceType[], roomKinds: DeviceType[], what: string) {
    if (!this.ctx.mqtt.connected) throw new ToolError("I can't reach the smart home: MQTT isn't connected.");
    await this.registry.ready(1000);
    const all = this.registry.devices();
    const r = resolveTarget(target ?? "", all, kinds, roomKinds);
    if (r.devices.length > 0) return r;
    if (!target || words(target).length === 0) {
      throw new ToolError(`There's no ${KIND_NOUN[kinds[0]!] ?? "device"} to ${what}.`);
    }
    if (r.anyKind.length > 0) {
      throw new ToolError(`${capitalize(listWords(r.anyKind.slice(0, 3).map(the)))} can't be ${what === "turn on" ? "turned on" : what === "turn off" ? "turned off" : what}.`);
    }
    throw new ToolError(`There's no device called '${target}'.`, { known: all.filter((d) => kinds.includes(d.type)).map((d) => d.name) });
  }

  private async act(target: string | undefined, kinds: DeviceType[], roomKinds: DeviceType[], what: string, action: Action, verb: string, suffix = "", signal?: AbortSignal): Promise<Reply> {
    const r = await this.find(target, kinds, roomKinds, what);
    const results = await this.registry.run(r.devices, action, this.config.answerTimeoutMs, signal);
    return composeReply(verb, suffix, target, r.areaOnly, results);
  }

  turnOn(target: string, signal?: AbortSignal): Promise<Reply> {
    return this.act(target, ON_OFF, ROOM, "turn on", { kind: "power", on: true }, "Turned on", "", signal);
  }

  turnOff(target: string, signal?: AbortSignal): Promise<Reply> {
    return this.act(target, ON_OFF, ROOM, "turn off", { kind: "power", on: false }, "Turned off", "", signal);
  }

  setLight(args: { target?: string; brightness?: number; color?: string }, signal?: AbortSignal): Promise<Reply> {
    if (args.brightness === undefined && !args.color) throw new ToolError("Say a brightness or a colour for the lights.");
    const color = args.color ? parseColor(args.color) : undefined;
    if (args.color && !color) throw new ToolError(`I don't know the colour '${args.color}'.`);
    const action: Action = { kind: "light" };
    if (args.brightness !== undefined) action.brightness = args.brightness;
    if (color) action.color = color;
    const parts: string[] = [];
    if (color) parts.push(color.name);
    if (args.brightness !== undefined) parts.push(`${args.brightness}%`);
    return this.act(args.target, ["light"], ["light"], "set", action, "Set", ` to ${parts.join(" at ")}`, signal);
  }

  setTemperature(args: { temperature: number; target?: string }, signal?: AbortSignal): Promise<Reply> {
    const t = args.temperature;
    if (typeof t !== "number" || !Number.isFinite(t) || t < this.config.minTemperature || t > this.config.maxTemperature) {
      throw new ToolError(`${t} degrees is outside ${this.config.minTemperature}-${this.config.maxTemperature}; I won't set that.`);
    }
    return this.act(args.target, ["climate"], ["climate"], "set", { kind: "temperature", value: t }, "Set", ` to ${t} degrees`, signal);
  }

  lock(target: string | undefined, signal?: AbortSignal): Promise<Reply> {
    return this.act(target, ["lock"], ["lock"], "locked", { kind: "lock", locked: true }, "Locked", "", signal);
  }

  async unlock(target: string | undefined, signal?: AbortSignal): Promise<Reply> {
    const r = await this.find(target, ["lock"], ["lock"], "unlocked");
    // Unlocking every door because none was named is not something to do implicitly.
    if ((!target || words(target).length === 0) && r.devices.length > 1) {
      throw new ToolError(`Which one? You have ${listWords(r.devices.map(the))}.`);
    }
    const results = await this.registry.run(r.devices, { kind: "lock", locked: false }, this.config.answerTimeoutMs, signal);
    return composeReply("Unlocked", "", target, r.areaOnly, results);
  }

  openCover(target: string, signal?: AbortSignal): Promise<Reply> {
    return this.act(target, ["cover"], ["cover"], "opened", { kind: "cover", open: true }, "Opened", "", signal);
  }

  closeCover(target: string, signal?: AbortSignal): Promise<Reply> {
    return this.act(target, ["cover"], ["cover"], "closed", { kind: "cover", open: false }, "Closed", "", signal);
  }

  /** True when a cover target is a garage door or gate (by its words, or by the devices it resolves to). */
  isGarageOrGate(target: string | undefined): boolean {
    if (target && /\b(garage|gate)s?\b/i.test(target)) return true;
    const r = resolveTarget(target ?? "", this.registry.devices(), ["cover"]);
    return r.devices.some((d) => d.deviceClass === "garage" || d.deviceClass === "gate");
  }

  async activateScene(scene: string, signal?: AbortSignal): Promise<Reply> {
    if (!this.ctx.mqtt.connected) throw new ToolError("I can't reach the smart home: MQTT isn't connected.");
    await this.registry.ready(1000);
    const r = resolveTarget(scene, this.registry.devices(), ["scene"]);
    if (r.devices.length === 0) throw new ToolError(`There's no scene called '${scene}'.`);
    const chosen = r.devices[0]!;
    if (chosen.steps) return this.runConfigScene(chosen, signal);
    const results = await this.registry.run([chosen], { kind: "scene" }, this.config.answerTimeoutMs, signal);
    const res = results[0]!;
    if (res.outcome === "ok" || res.outcome === "sent") return { say: `Activated ${lower(chosen.name)}.`, data: { scene: chosen.name, outcome: res.outcome } };
    throw new ToolError(res.outcome === "no-answer" ? `The ${lower(chosen.name)} scene didn't answer.` : `Couldn't activate ${lower(chosen.name)}: ${res.reason}.`);
  }

  private async runConfigScene(scene: Device, signal?: AbortSignal): Promise<Reply> {
    const results: Result[] = [];
    for (const step of scene.steps ?? []) {
      const r = resolveTarget(step.target, this.registry.devices(), ON_OFF, ROOM);
      if (r.devices.length === 0) {
        this.ctx.log.warn("smarthome: a scene step names no device", { scene: scene.name, target: step.target });
        continue;
      }
      let action: Action;
      if (step.state === "off") action = { kind: "power", on: false };
      else if (step.brightness !== undefined || step.color) {
        action = { kind: "light" };
        if (step.brightness !== undefined) action.brightness = step.brightness;
        const c = step.color ? parseColor(step.color) : undefined;
        if (c) action.color = c;
      } else action = { kind: "power", on: true };
      results.push(...(await this.registry.run(r.devices, action, this.config.answerTimeoutMs, signal)));
    }
    const silent = results.filter((r) => r.outcome === "no-answer" || r.outcome === "failed");
    const say = `Activated ${lower(scene.name)}${silent.length ? `; ${listWords(silent.map((r) => the(r.device)))} didn't answer` : ""}.`;
    return { say, data: { scene: scene.name, devices: results.map((r) => ({ id: r.device.id, outcome: r.outcome })) } };
  }
}

export function makeSmartHome(ctx: Pick<PluginContext, "mqtt" | "log" | "config">, log: Logger = ctx.log): SmartHome {
  const { config, problems } = readConfig(ctx.config);
  for (const p of problems) log.warn(`smarthome config: ${p}`);
  return new SmartHome(ctx, config);
}
