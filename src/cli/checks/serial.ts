// Doctor check for wearables: the serial ports on this machine (with USB ids), whether the configured
// ones are present, what the autodetect rules match, and whether the profiles load.
import { existsSync } from "node:fs";
import { ConfigError } from "../../daemon/config.js";
import { listSerialPorts, type SerialPortInfo } from "../../channels/serial-port.js";
import { profilesFor, serialConfig } from "../../channels/serial.js";
import type { CheckResult, DoctorCheck } from "../doctor.js";

function describe(p: SerialPortInfo): string {
  return p.vendorId ? `${p.path} (usb ${p.vendorId}:${p.productId ?? "????"}${p.manufacturer ? ` ${p.manufacturer}` : ""})` : p.path;
}

export const checks: DoctorCheck[] = [
  {
    name: "serial",
    run: async ({ config }): Promise<CheckResult> => {
      const cfg = serialConfig(config.raw);
      let profiles: string;
      try {
        profiles = profilesFor({ config }).names().join(", ");
      } catch (err) {
        return { status: "fail", detail: err instanceof ConfigError ? err.problems.join("; ") : String(err) };
      }
      let found: SerialPortInfo[];
      try {
        found = await listSerialPorts();
      } catch (err) {
        return { status: "warn", detail: `cannot list serial ports (${(err as Error).message})` };
      }
      const parts = [`ports here: ${found.length > 0 ? found.map(describe).join(", ") : "none"}`, `profiles: ${profiles}`];
      const missing = cfg.ports.filter((p) => !existsSync(p.path)).map((p) => p.path);
      if (cfg.ports.length > 0) {
        parts.push(`configured: ${cfg.ports.map((p) => `${p.path} ${existsSync(p.path) ? "present" : "MISSING"}`).join(", ")}`);
      }
      for (const r of cfg.autodetect) {
        const hits = found.filter((p) => p.vendorId === r.vendorId && p.productId === r.productId).map((p) => p.path);
        parts.push(`autodetect ${r.vendorId}:${r.productId}: ${hits.length > 0 ? hits.join(", ") : "nothing plugged in"}`);
      }
      if (cfg.ports.length === 0 && cfg.autodetect.length === 0) {
        return { status: "skip", detail: `no serial.ports or serial.autodetect configured; ${parts.join("; ")}` };
      }
      if (missing.length > 0) {
        return {
          status: "warn",
          detail: `${parts.join("; ")}; missing ports are retried with backoff once needled runs (plugged in? permission: add the service user to group dialout)`,
        };
      }
      return { status: "ok", detail: parts.join("; ") };
    },
  },
];
