// The device model and its three sources: Zigbee2MQTT's `<base>/bridge/devices` (and `bridge/groups` for
// scenes), Home Assistant MQTT discovery configs, and devices written in the plugin config. Pure parsing.

export type DeviceType = "light" | "switch" | "lock" | "cover" | "climate" | "fan" | "scene";
export const DEVICE_TYPES: DeviceType[] = ["light", "switch", "lock", "cover", "climate", "fan", "scene"];

/** Topics and payloads of a Home Assistant MQTT entity (also the shape of config devices). */
export interface HaEntity {
  schema: "default" | "json";
  commandTopic?: string;
  stateTopic?: string;
  payloadOn: string;
  payloadOff: string;
  stateOn?: string;
  stateOff?: string;
  brightnessCommandTopic?: string;
  brightnessScale: number;
  xyCommandTopic?: string;
  hsCommandTopic?: string;
  rgbCommandTopic?: string;
  colorTempCommandTopic?: string;
  temperatureCommandTopic?: string;
  temperatureStateTopic?: string;
  payloadLock: string;
  payloadUnlock: string;
  stateLocked: string;
  stateUnlocked: string;
  payloadOpen: string;
  payloadClose: string;
  stateOpen: string;
  stateClosed: string;
  stateOpening: string;
  stateClosing: string;
  /** Seen a Jinja template we cannot evaluate (the raw value is sent instead). */
  templates: string[];
}

export interface Z2mTarget {
  /** `<base>/<friendly_name>`; commands go to `<topic>/set`, the state comes back on `<topic>`. */
  topic: string;
  /** Properties the device exposes (state, brightness, color_xy, color_hs, color_temp, setpoints, position). */
  features: string[];
  /** The on/off or lock property ("state", or "state_l1" on a multi-channel device). */
  stateProperty: string;
  /** For climate: which setpoint property to write. */
  setpoint?: string;
  /** For a scene: the id to recall. */
  sceneId?: number;
}

export interface ConfigSceneStep {
  target: string;
  state?: "on" | "off";
  brightness?: number;
  color?: string;
}

export interface Device {
  id: string;
  name: string;
  area?: string;
  type: DeviceType;
  source: "zigbee2mqtt" | "homeassistant" | "config";
  /** Cover/lock class: garage, gate, door, blind, curtain ... (HA device_class, or from the name). */
  deviceClass?: string;
  z2m?: Z2mTarget;
  ha?: HaEntity;
  /** A scene from config: what to do. */
  steps?: ConfigSceneStep[];
}

const COVER_CLASSES = ["garage", "gate", "door", "blind", "curtain", "shade", "shutter", "awning", "window", "damper"];

/** Guesses a cover's class from its name when the source gives none ("Garage door" -> garage). */
export function classFromName(name: string): string | undefined {
  const words = name.toLowerCase().split(/[^a-z]+/);
  for (const c of COVER_CLASSES) if (words.includes(c) || words.includes(`${c}s`)) return c;
  return undefined;
}

function splitFriendlyName(friendly: string, areas: Record<string, string>): { name: string; area?: string } {
  const override = areas[friendly.toLowerCase()];
  const slash = friendly.lastIndexOf("/");
  const name = slash >= 0 ? friendly.slice(slash + 1) : friendly;
  const area = override ?? (slash >= 0 ? friendly.slice(0, slash).split("/").pop() : undefined);
  return area ? { name, area } : { name };
}

// ------------------------------------------------------------------ Zigbee2MQTT

interface Z2mExpose {
  type?: string;
  name?: string;
  property?: string;
  features?: Z2mExpose[];
  endpoint?: string;
}

function flattenFeatures(e: Z2mExpose): Z2mExpose[] {
  return [e, ...(Array.isArray(e.features) ? e.features.flatMap(flattenFeatures) : [])];
}

/** Reads `bridge/devices`; skips the coordinator, disabled and unsupported devices, and sensors. */
export function parseZ2mDevices(payload: unknown, base: string, areas: Record<string, string> = {}): Device[] {
  if (!Array.isArray(payload)) throw new Error("bridge/devices is not a JSON array");
  const out: Device[] = [];
  for (const raw of payload as Array<Record<string, any>>) {
    if (!raw || typeof raw !== "object" || typeof raw.friendly_name !== "string") continue;
    if (raw.type === "Coordinator" || raw.disabled === true) continue;
    const exposes: Z2mExpose[] = Array.isArray(raw.definition?.exposes) ? raw.definition.exposes : [];
    const { name, area } = splitFriendlyName(raw.friendly_name, areas);
    const topic = `${base}/${raw.friendly_name}`;
    const id = `z2m:${raw.ieee_address ?? raw.friendly_name}`;
    const generic = exposes.find((e) => e && ["light", "switch", "lock", "cover", "climate", "fan"].includes(e.type ?? ""));
    if (generic) {
      const features = flattenFeatures(generic).map((f) => f.name ?? f.property ?? "").filter(Boolean);
      const stateFeature = flattenFeatures(generic).find((f) => f.name === "state" && f.property);
      const type = generic.type as DeviceType;
      const dev: Device = {
        id,
        name,
        type,
        source: "zigbee2mqtt",
        z2m: { topic, features, stateProperty: stateFeature?.property ?? "state" },
        ...(area ? { area } : {}),
      };
      if (type === "climate") {
        const sp = ["occupied_heating_setpoint", "current_heating_setpoint", "occupied_cooling_setpoint"].find((p) => features.includes(p));
        if (sp) dev.z2m!.setpoint = sp;
      }
      if (type === "cover" || type === "lock") {
        const c = classFromName(name);
        if (c) dev.deviceClass = c;
      }
      out.push(dev);
    }
    // scenes stored on the device's endpoints
    const endpoints = raw.endpoints && typeof raw.endpoints === "object" ? Object.values(raw.endpoints as Record<string, any>) : [];
    for (const ep of endpoints) {
      for (const s of Array.isArray(ep?.scenes) ? ep.scenes : []) {
        if (typeof s?.id === "number" && typeof s?.name === "string") {
          out.push({
            id: `z2m-scene:${raw.friendly_name}:${s.id}`,
            name: s.name,
            type: "scene",
            source: "zigbee2mqtt",
            z2m: { topic, features: [], stateProperty: "state", sceneId: s.id },
            ...(area ? { area } : {}),
          });
        }
      }
    }
  }
  return out;
}

/** Scenes from `bridge/groups`: `[{friendly_name, scenes: [{id, name}]}]`. */
export function parseZ2mGroups(payload: unknown, base: string): Device[] {
  if (!Array.isArray(payload)) throw new Error("bridge/groups is not a JSON array");
  const out: Device[] = [];
  for (const g of payload as Array<Record<string, any>>) {
    if (typeof g?.friendly_name !== "string") continue;
    for (const s of Array.isArray(g.scenes) ? g.scenes : []) {
      if (typeof s?.id !== "number" || typeof s?.name !== "string") continue;
      out.push({
        id: `z2m-scene:${g.friendly_name}:${s.id}`,
        name: s.name,
        type: "scene",
        source: "zigbee2mqtt",
        z2m: { topic: `${base}/${g.friendly_name}`, features: [], stateProperty: "state", sceneId: s.id },
      });
    }
  }
  return out;
}

// ------------------------------------------------------------------ Home Assistant MQTT discovery

/** The abbreviations HA discovery allows for the keys this plugin reads (and a few common others). */
const ABBREVIATIONS: Record<string, string> = {
  cmd_t: "command_topic",
  stat_t: "state_topic",
  cmd_tpl: "command_template",
  val_tpl: "value_template",
  stat_val_tpl: "state_value_template",
  uniq_id: "unique_id",
  obj_id: "object_id",
  dev: "device",
  dev_cla: "device_class",
  pl_on: "payload_on",
  pl_off: "payload_off",
  stat_on: "state_on",
  stat_off: "state_off",
  bri_cmd_t: "brightness_command_topic",
  bri_stat_t: "brightness_state_topic",
  bri_scl: "brightness_scale",
  bri_val_tpl: "brightness_value_template",
  xy_cmd_t: "xy_command_topic",
  hs_cmd_t: "hs_command_topic",
  rgb_cmd_t: "rgb_command_topic",
  clr_temp_cmd_t: "color_temp_command_topic",
  clr_temp_stat_t: "color_temp_state_topic",
  pl_lock: "payload_lock",
  pl_unlk: "payload_unlock",
  stat_locked: "state_locked",
  stat_unlocked: "state_unlocked",
  pl_open: "payload_open",
  pl_cls: "payload_close",
  pl_stop: "payload_stop",
  stat_open: "state_open",
  stat_clsd: "state_closed",
  stat_opening: "state_opening",
  stat_closing: "state_closing",
  set_pos_t: "set_position_topic",
  pos_t: "position_topic",
  temp_cmd_t: "temperature_command_topic",
  temp_cmd_tpl: "temperature_command_template",
  temp_stat_t: "temperature_state_topic",
  curr_temp_t: "current_temperature_topic",
  pct_cmd_t: "percentage_command_topic",
  avty_t: "availability_topic",
  json_attr_t: "json_attributes_topic",
  opt: "optimistic",
  ret: "retain",
  sup_clrm: "supported_color_modes",
};
const DEVICE_ABBREVIATIONS: Record<string, string> = {
  ids: "identifiers",
  sa: "suggested_area",
  mf: "manufacturer",
  mdl: "model",
  sw: "sw_version",
  cns: "connections",
};

function expand(obj: Record<string, unknown>, table: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) out[table[k] ?? k] = v;
  return out;
}

/** Expands abbreviated keys and the `~` base topic (at the start or end of a *_topic value). */
export function expandDiscovery(payload: Record<string, unknown>): Record<string, unknown> {
  const cfg = expand(payload, ABBREVIATIONS);
  if (cfg.device && typeof cfg.device === "object") cfg.device = expand(cfg.device as Record<string, unknown>, DEVICE_ABBREVIATIONS);
  const base = typeof cfg["~"] === "string" ? (cfg["~"] as string) : undefined;
  if (base !== undefined) {
    for (const [k, v] of Object.entries(cfg)) {
      if (!k.endsWith("_topic") || typeof v !== "string") continue;
      if (v.startsWith("~")) cfg[k] = base + v.slice(1);
      else if (v.endsWith("~")) cfg[k] = v.slice(0, -1) + base;
    }
  }
  return cfg;
}

const HA_TYPES: Record<string, DeviceType> = {
  light: "light",
  switch: "switch",
  lock: "lock",
  cover: "cover",
  climate: "climate",
  fan: "fan",
  scene: "scene",
};

const str = (v: unknown): string | undefined => (typeof v === "string" && v.length > 0 ? v : undefined);
const payloadStr = (v: unknown, dflt: string): string => (typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : dflt);

/** Builds the entity's topics and payloads from an expanded config (defaults as in HA's MQTT integration). */
export function haEntityFrom(cfg: Record<string, unknown>): HaEntity {
  const templates = Object.keys(cfg).filter((k) => k.endsWith("_template") && typeof cfg[k] === "string");
  const e: HaEntity = {
    schema: cfg.schema === "json" ? "json" : "default",
    payloadOn: payloadStr(cfg.payload_on, "ON"),
    payloadOff: payloadStr(cfg.payload_off, "OFF"),
    brightnessScale: typeof cfg.brightness_scale === "number" && cfg.brightness_scale > 0 ? cfg.brightness_scale : 255,
    payloadLock: payloadStr(cfg.payload_lock, "LOCK"),
    payloadUnlock: payloadStr(cfg.payload_unlock, "UNLOCK"),
    stateLocked: payloadStr(cfg.state_locked, "LOCKED"),
    stateUnlocked: payloadStr(cfg.state_unlocked, "UNLOCKED"),
    payloadOpen: payloadStr(cfg.payload_open, "OPEN"),
    payloadClose: payloadStr(cfg.payload_close, "CLOSE"),
    stateOpen: payloadStr(cfg.state_open, "open"),
    stateClosed: payloadStr(cfg.state_closed, "closed"),
    stateOpening: payloadStr(cfg.state_opening, "opening"),
    stateClosing: payloadStr(cfg.state_closing, "closing"),
    templates,
  };
  const topics: Array<[keyof HaEntity, string]> = [
    ["commandTopic", "command_topic"],
    ["stateTopic", "state_topic"],
    ["brightnessCommandTopic", "brightness_command_topic"],
    ["xyCommandTopic", "xy_command_topic"],
    ["hsCommandTopic", "hs_command_topic"],
    ["rgbCommandTopic", "rgb_command_topic"],
    ["colorTempCommandTopic", "color_temp_command_topic"],
    ["temperatureCommandTopic", "temperature_command_topic"],
    ["temperatureStateTopic", "temperature_state_topic"],
  ];
  for (const [field, key] of topics) {
    const v = str(cfg[key]);
    if (v) (e as unknown as Record<string, unknown>)[field] = v;
  }
  if (cfg.state_on !== undefined) e.stateOn = payloadStr(cfg.state_on, e.payloadOn);
  if (cfg.state_off !== undefined) e.stateOff = payloadStr(cfg.state_off, e.payloadOff);
  return e;
}

export interface DiscoveryTopic {
  component: string;
  nodeId?: string;
  objectId: string;
}

/** Splits `<prefix>/<component>/[<node_id>/]<object_id>/config`. */
export function parseDiscoveryTopic(topic: string, prefix: string): DiscoveryTopic | undefined {
  if (!topic.startsWith(`${prefix}/`) || !topic.endsWith("/config")) return undefined;
  const parts = topic.slice(prefix.length + 1, -"/config".length).split("/");
  if (parts.length === 2) return { component: parts[0]!, objectId: parts[1]! };
  if (parts.length === 3) return { component: parts[0]!, nodeId: parts[1]!, objectId: parts[2]! };
  return undefined;
}

/** One discovery message -> a device, or undefined for a component this plugin doesn't drive. Throws on bad JSON. */
export function parseHaDiscovery(t: DiscoveryTopic, payload: unknown): Device | undefined {
  const type = HA_TYPES[t.component];
  if (!type) return undefined;
  if (!payload || typeof payload !== "object" || Array.isArray(payload)) throw new Error("discovery payload is not a JSON object");
  const cfg = expandDiscovery(payload as Record<string, unknown>);
  const device = (cfg.device ?? {}) as Record<string, unknown>;
  const name = str(cfg.name) ?? str(device.name) ?? t.objectId.replace(/_/g, " ");
  const ha = haEntityFrom(cfg);
  const needsCommand = type === "climate" ? ha.temperatureCommandTopic : ha.commandTopic;
  if (!needsCommand && !(type === "light" && (ha.brightnessCommandTopic || ha.commandTopic))) {
    throw new Error(`${t.component} "${name}" has no command topic`);
  }
  const id = `ha:${t.component}:${str(cfg.unique_id) ?? `${t.nodeId ? `${t.nodeId}/` : ""}${t.objectId}`}`;
  const dev: Device = { id, name, type, source: "homeassistant", ha };
  const area = str(device.suggested_area);
  if (area) dev.area = area;
  const cls = str(cfg.device_class) ?? (type === "cover" || type === "lock" ? classFromName(name) : undefined);
  if (cls) dev.deviceClass = cls;
  return dev;
}

// ------------------------------------------------------------------ config

/**
 * Devices written in config: `{name, type, area?, device_class?, command_topic, state_topic, payload_on, ...}`
 * with Home Assistant's key names (abbreviations allowed), or `{name, type: "scene", steps: [...]}`.
 */
export function parseConfigDevices(raw: unknown): { devices: Device[]; problems: string[] } {
  const devices: Device[] = [];
  const problems: string[] = [];
  if (raw === undefined) return { devices, problems };
  if (!Array.isArray(raw)) return { devices, problems: ["plugins.smarthome.devices must be a list"] };
  raw.forEach((entry, i) => {
    const where = `plugins.smarthome.devices[${i}]`;
    if (!entry || typeof entry !== "object") {
      problems.push(`${where}: expected an object`);
      return;
    }
    const e = expandDiscovery(entry as Record<string, unknown>);
    const name = str(e.name);
    const type = e.type as DeviceType;
    if (!name) return void problems.push(`${where}: "name" is required`);
    if (!DEVICE_TYPES.includes(type)) return void problems.push(`${where} (${name}): "type" must be one of ${DEVICE_TYPES.join(", ")}`);
    const dev: Device = { id: `config:${name.toLowerCase()}`, name, type, source: "config" };
    if (str(e.area)) dev.area = str(e.area)!;
    const cls = str(e.device_class) ?? classFromName(name);
    if (cls && (type === "cover" || type === "lock")) dev.deviceClass = cls;
    if (type === "scene" && Array.isArray(e.steps)) {
      const steps: ConfigSceneStep[] = [];
      for (const s of e.steps as Array<Record<string, unknown>>) {
        if (!s || typeof s.target !== "string") return void problems.push(`${where} (${name}): each step needs a "target"`);
        const step: ConfigSceneStep = { target: s.target };
        if (s.state === "on" || s.state === "off") step.state = s.state;
        if (typeof s.brightness === "number") step.brightness = s.brightness;
        if (typeof s.color === "string") step.color = s.color;
        steps.push(step);
      }
      dev.steps = steps;
    } else {
      dev.ha = haEntityFrom(e);
      const cmd = type === "climate" ? dev.ha.temperatureCommandTopic : dev.ha.commandTopic;
      if (!cmd) return void problems.push(`${where} (${name}): needs ${type === "climate" ? "temperature_command_topic" : "command_topic"}`);
    }
    devices.push(dev);
  });
  return { devices, problems };
}
