// Doctor checks for speech input: libvosk, the Vosk model, arecord for the microphone.
import { spawnSync } from "node:child_process";
import { voiceConfig } from "../../speech/config.js";
import { VoiceUnavailable } from "../../speech/recognizer.js";
import { checkModelDir, findLibrary, libraryAdvice, loadLibrary } from "../../speech/vosk.js";
import type { CheckResult, DoctorCheck } from "../doctor.js";

/** Missing voice parts are a warning when voice is optional (auto: the daemon runs text-only), else a failure. */
const missing = (enabled: "auto" | boolean, detail: string): CheckResult => ({
  status: enabled === true ? "fail" : "warn",
  detail: enabled === true ? detail : `${detail} (until then the daemon runs text-only)`,
});

export const checks: DoctorCheck[] = [
  {
    name: "voice library",
    run: ({ config }) => {
      const v = voiceConfig(config);
      if (v.enabled === false) return { status: "skip", detail: "voice.enabled is false" };
      const lookup = findLibrary(v.libvosk);
      if (!lookup.found) return missing(v.enabled, libraryAdvice(lookup, v.libvosk));
      try {
        loadLibrary(lookup.found.path);
      } catch (err) {
        if (err instanceof VoiceUnavailable) return missing(v.enabled, `${err.message}; set voice.libvosk to a working libvosk.so`);
        throw err;
      }
      return { status: "ok", detail: `libvosk ${lookup.found.path} (${lookup.found.source}) loads` };
    },
  },
  {
    name: "voice model",
    run: ({ config }) => {
      const v = voiceConfig(config);
      if (v.enabled === false) return { status: "skip", detail: "voice.enabled is false" };
      const check = checkModelDir(v.model);
      if (!check.ok) return missing(v.enabled, `voice.model: ${check.problem}`);
      return { status: "ok", detail: `${v.model} (${check.sampleRate} Hz)` };
    },
  },
  {
    name: "microphone",
    run: ({ config }) => {
      const v = voiceConfig(config);
      if (v.enabled === false || !v.microphone) return { status: "skip", detail: v.enabled === false ? "voice.enabled is false" : "voice.microphone is false" };
      const r = spawnSync("arecord", ["--version"], { encoding: "utf8", timeout: 5000 });
      if (r.error) {
        return { status: "warn", detail: "arecord not found: install alsa-utils (apt install alsa-utils) to use a microphone; wearables and WAV files work without it" };
      }
      return { status: "ok", detail: `arecord present; capturing from ALSA device "${v.alsaDevice}" (arecord -l lists the devices)` };
    },
  },
];
