// What to publish for an action on one device, and how to recognise its state echo. Pure.
import type { LightColor } from "./colors.js";
import type { Device } from "./devices.js";

export type Action =
  | { kind: "power"; on: boolean }
  | { kind: "light"; brightness?: number; color?: LightColor }
  | { kind: "lock"; locked: boolean }
  | { kind: "cover"; open: boolean }
  | { kind: "temperature"; value: number }
  | { kind: "scene" };

export interface Publish {
  topic: string;
  payload: string;
}

export interface Command {
  publishes: Publish[];
  /** Where the device reports its state, and whether a report confirms the action. Absent: no feedback. */
  expect?: { topic: string; confirms(payload: Buffer): boolean };
}

/** The device cannot do this (a colour on a white-only bulb): the reason, for the reply. */
export class Unsupported extends Error {}

function json(payload: Buffer): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(payload.toString("utf8"));
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const eq = (a: unknown, b: string) => typeof a === "string" && a.toUpperCase() === b.toUpperCase();

function zigbee(device: Device, action: Action): Command {
  const z = device.z2m!;
  const topic = `${z.topic}/set`;
  const has = (f: string) => z.features.length === 0 || z.features.includes(f);
  const sp = z.stateProperty;
  let body: Record<string, unknown>;
  let confirms: (m: Record<string, unknown>) => boolean = () => true;
  switch (action.kind) {
    case "power": {
      const want = action.on ? "ON" : "OFF";
      body = { [sp]: want };
      confirms = (m) => m[sp] === undefined || eq(m[sp], want);
      break;
    }
    case "light": {
      body = {};
      if (action.brightness !== undefined) {
        if (!has("brightness")) throw new Unsupported("can't be dimmed");
        const b = Math.round((Math.max(0, Math.min(100, action.brightness)) * 254) / 100);
        body = b === 0 ? { [sp]: "OFF" } : { [sp]: "ON", brightness: b };
        confirms = (m) => (b === 0 ? m[sp] === undefined || eq(m[sp], "OFF") : m.brightness === undefined || Math.abs(Number(m.brightness) - b) <= 2);
      }
      if (action.color) {
        const c = action.color;
        if (c.kind === "temperature") {
          if (!has("color_temp")) throw new Unsupported("can't change its white");
          body.color_temp = c.mireds;
        } else if (has("color_xy")) body.color = { x: c.xy.x, y: c.xy.y };
        else if (has("color_hs")) body.color = { hue: c.hs.hue, saturation: c.hs.saturation };
        else throw new Unsupported("can't change colour");
        if (body[sp] === undefined) body[sp] = "ON";
      }
      break;
    }
    case "lock": {
      const want = action.locked ? "LOCK" : "UNLOCK";
      body = { [sp]: want };
      confirms = (m) =>
        eq(m[sp], want) || eq(m.lock_state, action.locked ? "locked" : "unlocked") || (m[sp] === undefined && m.lock_state === undefined);
      break;
    }
    case "cover": {
      const want = action.open ? "OPEN" : "CLOSE";
      body = { state: want };
      confirms = (m) =>
        m.state === undefined ? (typeof m.position === "number" ? (action.open ? m.position > 0 : m.position < 100) : true) : eq(m.state, want) || eq(m.state, action.open ? "OPENING" : "CLOSING");
      break;
    }
    case "temperature": {
      if (!z.setpoint) throw new Unsupported("has no temperature setpoint");
      const prop = z.setpoint;
      body = { [prop]: action.value };
      confirms = (m) => m[prop] === undefined || Number(m[prop]) === action.value;
      break;
    }
    case "scene":
      body = { scene_recall: z.sceneId };
      break;
  }
  return {
    publishes: [{ topic, payload: JSON.stringify(body) }],
    expect: {
      topic: z.topic,
      confirms: (p) => {
        const m = json(p);
        return m ? confirms(m) : false;
      },
    },
  };
}

function homeAssistant(device: Device, action: Action): Command {
  const e = device.ha!;
  const state = e.stateTopic;
  const text = (p: Buffer) => p.toString("utf8").trim();
  const expectText = (values: string[]): Command["expect"] =>
    state ? { topic: state, confirms: (p) => values.some((v) => text(p).toUpperCase() === v.toUpperCase()) } : undefined;
  const jsonState = (want: string): Command["expect"] =>
    state ? { topic: state, confirms: (p) => { const m = json(p); return m ? m.state === undefined || eq(m.state, want) : false; } } : undefined;
  const need = (topic: string | undefined, what: string): string => {
    if (!topic) throw new Unsupported(what);
    return topic;
  };
  const out = (publishes: Publish[], expect?: Command["expect"]): Command => (expect ? { publishes, expect } : { publishes });
  switch (action.kind) {
    case "power": {
      const cmd = need(e.commandTopic, "has no command topic");
      if (device.type === "light" && e.schema === "json") {
        return out([{ topic: cmd, payload: JSON.stringify({ state: action.on ? "ON" : "OFF" }) }], jsonState(action.on ? "ON" : "OFF"));
      }
      const payload = action.on ? e.payloadOn : e.payloadOff;
      const st = action.on ? (e.stateOn ?? e.payloadOn) : (e.stateOff ?? e.payloadOff);
      return out([{ topic: cmd, payload }], expectText([st]));
    }
    case "light": {
      const pct = action.brightness !== undefined ? Math.max(0, Math.min(100, action.brightness)) : undefined;
      const c = action.color;
      if (e.schema === "json") {
        const body: Record<string, unknown> = { state: pct === 0 ? "OFF" : "ON" };
        if (pct !== undefined && pct > 0) body.brightness = Math.round((pct * e.brightnessScale) / 100);
        if (c?.kind === "temperature") body.color_temp = c.mireds;
        else if (c) body.color = { x: c.xy.x, y: c.xy.y, h: c.hs.hue, s: c.hs.saturation };
        return out([{ topic: need(e.commandTopic, "has no command topic"), payload: JSON.stringify(body) }], jsonState(body.state as string));
      }
      const publishes: Publish[] = [];
      if (pct !== undefined) {
        if (pct === 0) publishes.push({ topic: need(e.commandTopic, "has no command topic"), payload: e.payloadOff });
        else publishes.push({ topic: need(e.brightnessCommandTopic, "can't be dimmed"), payload: String(Math.round((pct * e.brightnessScale) / 100)) });
      }
      if (c?.kind === "temperature") publishes.push({ topic: need(e.colorTempCommandTopic, "can't change its white"), payload: String(c.mireds) });
      else if (c) {
        if (e.xyCommandTopic) publishes.push({ topic: e.xyCommandTopic, payload: `${c.xy.x},${c.xy.y}` });
        else if (e.hsCommandTopic) publishes.push({ topic: e.hsCommandTopic, payload: `${c.hs.hue},${c.hs.saturation}` });
        else if (e.rgbCommandTopic) publishes.push({ topic: e.rgbCommandTopic, payload: c.rgb.join(",") });
        else throw new Unsupported("can't change colour");
      }
      const on = pct !== 0;
      return out(publishes, expectText([on ? (e.stateOn ?? e.payloadOn) : (e.stateOff ?? e.payloadOff)]));
    }
    case "lock": {
      const payload = action.locked ? e.payloadLock : e.payloadUnlock;
      return out([{ topic: need(e.commandTopic, "has no command topic"), payload }], expectText([action.locked ? e.stateLocked : e.stateUnlocked]));
    }
    case "cover": {
      const payload = action.open ? e.payloadOpen : e.payloadClose;
      const states = action.open ? [e.stateOpen, e.stateOpening] : [e.stateClosed, e.stateClosing];
      return out([{ topic: need(e.commandTopic, "has no command topic"), payload }], expectText(states));
    }
    case "temperature": {
      const topic = need(e.temperatureCommandTopic, "has no temperature topic");
      const st = e.temperatureStateTopic;
      return out(
        [{ topic, payload: String(action.value) }],
        st ? { topic: st, confirms: (p) => Number(text(p)) === action.value } : undefined,
      );
    }
    case "scene":
      return out([{ topic: need(e.commandTopic, "has no command topic"), payload: e.payloadOn }]);
  }
}

/** The messages for one device; throws Unsupported when the device can't do it. */
export function buildCommand(device: Device, action: Action): Command {
  if (device.z2m) return zigbee(device, action);
  if (device.ha) return homeAssistant(device, action);
  throw new Unsupported("has no MQTT topics");
}
