// The JSON Schema of the YAML config file. Defaults live here (ajv fills them in), so `npm start` with no
// file at all gets a working daemon. Other parts of the project add their own top-level sections to
// `sections` (a key missing from the schema is reported as unknown: that catches typos).

const nullable = (schema: Record<string, unknown>) => ({ ...schema, type: [schema.type as string, "null"] });

export const sections: Record<string, Record<string, unknown>> = {
  model: {
    type: "object",
    default: {},
    additionalProperties: false,
    properties: {
      dir: { type: "string", minLength: 1, default: "models/default", description: "model directory" },
      retrieval_k: {
        type: "integer",
        minimum: 1,
        maximum: 256,
        default: 8,
        description: "tools kept in the prompt when more are declared",
      },
      span_values: {
        type: "boolean",
        default: true,
        description: "string values are spans of what was said (the model copies, never invents); false: free strings",
      },
      min_confidence: {
        type: ["number", "null"],
        minimum: 0,
        maximum: 1,
        default: null,
        description: "calls below this confidence are not run (\"not sure\"); null: the model's recommendation",
      },
      min_tool_similarity: {
        type: ["number", "null"],
        minimum: 0,
        maximum: 1,
        default: null,
        description: "a single call to a tool whose retrieval similarity to what was said is below this is not run (\"not sure\"); null: the model's recommendation, 0: off",
      },
      threads: nullable({ type: "integer", minimum: 1, maximum: 64, default: null }),
    },
  },
  http: {
    type: "object",
    default: {},
    additionalProperties: false,
    properties: {
      enabled: { type: "boolean", default: true },
      host: { type: "string", minLength: 1, default: "127.0.0.1" },
      port: { type: "integer", minimum: 0, maximum: 65535, default: 8750 },
      token: nullable({ type: "string", minLength: 16, default: null }),
    },
  },
  mqtt: {
    type: "object",
    default: {},
    additionalProperties: false,
    properties: {
      enabled: { type: "boolean", default: true },
      url: nullable({ type: "string", pattern: "^(mqtts?|wss?|tcp|ssl)://", default: null }),
      base_topic: { type: "string", pattern: "^[^#+/][^#+]*[^#+/]$|^[^#+/]$", default: "needled" },
      share_group: nullable({
        type: "string",
        pattern: "^[A-Za-z0-9_-]{1,64}$",
        default: null,
        description: "several daemons share one stream of commands: $share/<group>/<base>/+/say (needs mqtt.url)",
      }),
      broker: {
        type: "object",
        default: {},
        additionalProperties: false,
        description: "the embedded broker, used when mqtt.url is not set",
        properties: {
          host: { type: "string", minLength: 1, default: "127.0.0.1" },
          port: { type: "integer", minimum: 0, maximum: 65535, default: 1883 },
        },
      },
    },
  },
  state_dir: nullable({ type: "string", minLength: 1, default: null }),
  builtin_plugins: {
    anyOf: [{ type: "boolean" }, { type: "array", items: { type: "string" } }],
    default: true,
    description: "true: all of dist/tools/*; false: none; a list: those",
  },
  plugin_dirs: { type: "array", items: { type: "string", minLength: 1 }, default: [] },
  plugins: {
    type: "object",
    default: {},
    additionalProperties: { type: "object" },
    description: "plugins.<name>: that plugin's own config section",
  },
  handler_timeout_ms: { type: "integer", minimum: 1, maximum: 600_000, default: 5000 },
  policy: {
    type: "object",
    default: {},
    additionalProperties: false,
    properties: {
      confirm_window_s: { type: "number", exclusiveMinimum: 0, maximum: 3600, default: 10 },
      auto_confirm_confidence: nullable({
        type: "number",
        minimum: 0,
        maximum: 1,
        default: null,
        description: "a sensitive tool runs without confirmation when the prediction is more confident; null: never",
      }),
    },
  },
  log: {
    type: "object",
    default: {},
    additionalProperties: false,
    properties: {
      level: { enum: ["debug", "info", "warn", "error", "silent"], default: "info" },
    },
  },
  voice: {
    type: "object",
    default: {},
    additionalProperties: false,
    description: "speech input (src/speech): Vosk from a microphone, wearables' audio, WAV files",
    properties: {
      enabled: { enum: ["auto", true, false], default: "auto", description: "auto: on when libvosk and the model are found" },
      libvosk: nullable({ type: "string", minLength: 1, default: null }),
      model: nullable({ type: "string", minLength: 1, default: null, description: "default <state_dir>/voice/vosk-model-small-en-us-0.15" }),
      microphone: { type: "boolean", default: true, description: "capture from ALSA with arecord" },
      alsa_device: { type: "string", minLength: 1, default: "default" },
      arecord_args: { type: "array", items: { type: "string" }, default: [] },
      device: { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$", default: "mic", description: "who the microphone is" },
      activation: { enum: ["wake", "ptt", "always"], default: "wake" },
      wake_phrases: { type: "array", items: { type: "string", minLength: 1 }, minItems: 1, default: ["hey needle"] },
      wake_window_s: { type: "number", exclusiveMinimum: 0, maximum: 120, default: 8 },
      ptt_devices: { type: "array", items: { type: "string", minLength: 1 }, default: [], description: "wearables whose push-to-talk button opens the microphone" },
      grammar: { type: "boolean", default: false },
      grammar_phrases: { type: "array", items: { type: "string", minLength: 1 }, default: [] },
      numbers: { enum: ["digits", "words"], default: "digits" },
      vosk_log_level: { type: "integer", minimum: -1, maximum: 3, default: -1 },
      vad: {
        type: "object",
        default: {},
        additionalProperties: false,
        properties: {
          threshold_db: { type: "number", minimum: 1, maximum: 60, default: 12 },
          min_speech_dbfs: { type: "number", minimum: -100, maximum: 0, default: -50 },
          min_speech_ms: { type: "integer", minimum: 20, maximum: 2000, default: 100 },
          hangover_ms: { type: "integer", minimum: 100, maximum: 5000, default: 600 },
          pre_roll_ms: { type: "integer", minimum: 0, maximum: 2000, default: 300 },
          max_utterance_s: { type: "number", minimum: 1, maximum: 120, default: 12 },
        },
      },
    },
  },
  stdin: { enum: ["auto", true, false], default: "auto", description: "read lines from a terminal" },
  // Wearables on the link protocol (devices/PROTOCOL.md): serial ports, and the profiles of every device.
  serial: {
    type: "object",
    default: {},
    additionalProperties: false,
    properties: {
      ports: {
        type: "array",
        default: [],
        items: {
          type: "object",
          additionalProperties: false,
          required: ["path"],
          properties: {
            path: { type: "string", minLength: 1 },
            baud_rate: { type: "integer", minimum: 300, maximum: 4_000_000 },
            device: { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$", description: "id until the device says hello" },
            profile: { type: "string", minLength: 1 },
          },
        },
      },
      autodetect: {
        type: "array",
        default: [],
        items: {
          type: "object",
          additionalProperties: false,
          required: ["vendor_id", "product_id"],
          properties: {
            vendor_id: { type: "string", pattern: "^(0x)?[0-9A-Fa-f]{1,4}$" },
            product_id: { type: "string", pattern: "^(0x)?[0-9A-Fa-f]{1,4}$" },
            baud_rate: { type: "integer", minimum: 300, maximum: 4_000_000 },
            profile: { type: "string", minLength: 1 },
          },
        },
      },
      scan_interval_ms: { type: "integer", minimum: 100, maximum: 600_000, default: 2000 },
      reconnect: {
        type: "object",
        default: {},
        additionalProperties: false,
        properties: {
          min_ms: { type: "integer", minimum: 10, maximum: 600_000, default: 250 },
          max_ms: { type: "integer", minimum: 10, maximum: 600_000, default: 10_000 },
        },
      },
    },
  },
  devices: {
    type: "object",
    default: {},
    additionalProperties: false,
    properties: {
      profile_dirs: { type: "array", items: { type: "string", minLength: 1 }, default: [], description: "more wearable profiles (*.json)" },
      default_profile: { type: "string", minLength: 1, default: "watch" },
    },
  },
  shutdown_timeout_ms: { type: "integer", minimum: 0, maximum: 600_000, default: 5000 },
};

export function configSchema(): Record<string, unknown> {
  return {
    type: "object",
    additionalProperties: false,
    properties: sections,
  };
}
