// The serial channel: wearables on serial ports (USB CDC, UART) speaking the link protocol
// (devices/PROTOCOL.md) in SLIP frames. Ports come from `serial.ports` or are found by USB vendor/product
// id (`serial.autodetect`). An unplugged port is reopened with exponential backoff; damaged frames are
// dropped and counted (GET /healthz -> channels.serial), never fatal.
import { hostname } from "node:os";
import { basename } from "node:path";
import type { ChannelContext, ChannelFactory } from "../daemon/daemon.js";
import type { EventEnvelope } from "../daemon/events.js";
import { ConfigError } from "../daemon/config.js";
import { MAX_FRAME } from "./link/frame.js";
import { slipEncode, SlipDecoder } from "./link/slip.js";
import { LinkSession, LinkStats } from "./serial-session.js";
import { baudRateFor, loadProfiles, type ProfileSet } from "./serial-profiles.js";
import { listSerialPorts, normId, SerialLink, type ListOptions } from "./serial-port.js";

export interface SerialPortConfig {
  path: string;
  baudRate?: number;
  device?: string;
  profile?: string;
}

export interface AutodetectRule {
  vendorId: string;
  productId: string;
  baudRate?: number;
  profile?: string;
}

export interface SerialConfig {
  ports: SerialPortConfig[];
  autodetect: AutodetectRule[];
  scanIntervalMs: number;
  reconnect: { minMs: number; maxMs: number };
}

export interface DevicesConfig {
  profileDirs: string[];
  defaultProfile: string;
}

/** `serial` from the validated config (snake_case in the file). */
export function serialConfig(raw: Record<string, unknown>): SerialConfig {
  const s = (raw.serial ?? {}) as {
    ports?: Array<{ path: string; baud_rate?: number; device?: string; profile?: string }>;
    autodetect?: Array<{ vendor_id: string; product_id: string; baud_rate?: number; profile?: string }>;
    scan_interval_ms?: number;
    reconnect?: { min_ms?: number; max_ms?: number };
  };
  return {
    ports: (s.ports ?? []).map((p) => ({
      path: p.path,
      ...(p.baud_rate ? { baudRate: p.baud_rate } : {}),
      ...(p.device ? { device: p.device } : {}),
      ...(p.profile ? { profile: p.profile } : {}),
    })),
    autodetect: (s.autodetect ?? []).map((r) => ({
      vendorId: normId(r.vendor_id),
      productId: normId(r.product_id),
      ...(r.baud_rate ? { baudRate: r.baud_rate } : {}),
      ...(r.profile ? { profile: r.profile } : {}),
    })),
    scanIntervalMs: s.scan_interval_ms ?? 2000,
    reconnect: { minMs: s.reconnect?.min_ms ?? 250, maxMs: s.reconnect?.max_ms ?? 10_000 },
  };
}

/** `devices` from the validated config; relative profile dirs are relative to the config file. */
export function devicesConfig(raw: Record<string, unknown>): DevicesConfig {
  const d = (raw.devices ?? {}) as { profile_dirs?: string[]; default_profile?: string };
  return { profileDirs: d.profile_dirs ?? [], defaultProfile: d.default_profile ?? "watch" };
}

/** Profiles for the configured devices; unknown names in the config are ConfigErrors. */
export function profilesFor(ctx: Pick<ChannelContext, "config">): ProfileSet {
  const dc = devicesConfig(ctx.config.raw);
  const base = ctx.config.file ? ctx.config.file.replace(/[^/]*$/, "") : process.cwd() + "/";
  const dirs = dc.profileDirs.map((d) => (d.startsWith("/") ? d : base + d));
  return loadProfiles(dirs, dc.defaultProfile);
}

/** `serial-ttyUSB0` for /dev/ttyUSB0: a usable device id until the device says hello. */
export function deviceIdForPath(path: string): string {
  return `serial-${basename(path).replace(/[^A-Za-z0-9_.:@-]/g, "_")}`.slice(0, 64);
}

interface Attachment {
  spec: SerialPortConfig & { baudRate: number };
  autodetected: boolean;
  link: SerialLink;
  session: LinkSession;
}

export interface SerialChannelOptions {
  /** Where to look for ports when autodetecting (tests point this at a made-up sysfs tree). */
  list?: ListOptions;
}

export function serialChannelFactory(options: SerialChannelOptions = {}): ChannelFactory {
  return { name: "serial", start: (ctx) => startSerialChannel(ctx, options) };
}

export const serialChannel: ChannelFactory = serialChannelFactory();

export async function startSerialChannel(ctx: ChannelContext, options: SerialChannelOptions = {}) {
  const cfg = serialConfig(ctx.config.raw);
  if (cfg.ports.length === 0 && cfg.autodetect.length === 0) return undefined;
  const profiles = profilesFor(ctx);
  const unknown = [...cfg.ports, ...cfg.autodetect].map((p) => p.profile).filter((p): p is string => p !== undefined && !profiles.get(p));
  if (unknown.length > 0) {
    throw new ConfigError([`serial: unknown profile(s) ${unknown.map((u) => `"${u}"`).join(", ")} (known: ${profiles.names().join(", ")})`]);
  }
  const { log } = ctx;
  const stats = new LinkStats();
  const hub = hostname() || "needled";
  const attached = new Map<string, Attachment>();

  const attach = (spec: SerialPortConfig & { baudRate: number }, autodetected: boolean) => {
    const decoder = new SlipDecoder(MAX_FRAME);
    let link: SerialLink | undefined;
    const session = new LinkSession({
      core: ctx.core,
      profiles,
      send: (frame) => link?.write(slipEncode(frame)),
      log,
      stats,
      source: "serial",
      hub,
      device: spec.device ?? deviceIdForPath(spec.path),
      ...(spec.profile ? { profile: spec.profile } : {}),
    });
    link = new SerialLink({
      path: spec.path,
      baudRate: spec.baudRate,
      log,
      reopen: !autodetected,
      minBackoffMs: cfg.reconnect.minMs,
      maxBackoffMs: cfg.reconnect.maxMs,
      onOpen: () => decoder.reset(),
      onData: (chunk) => {
        for (const item of decoder.push(chunk)) {
          if ("frame" in item) session.receive(item.frame);
          else {
            stats.framesIn++;
            session.problem(item.error, item.error === "oversize" ? `${item.bytes} bytes without an END byte` : "invalid SLIP escape");
          }
        }
      },
    });
    attached.set(spec.path, { spec, autodetected, link, session });
  };

  for (const p of cfg.ports) {
    attach({ ...p, baudRate: p.baudRate ?? baudRateFor(p.profile ? profiles.get(p.profile) : profiles.default) }, false);
  }

  // Autodetection: a scan now and every scanIntervalMs; a port that went away is forgotten and found again.
  let scanning = false;
  const scan = async () => {
    if (scanning) return;
    scanning = true;
    try {
      for (const [path, a] of attached) {
        if (a.autodetected && a.link.status().state === "closed") {
          a.session.close();
          attached.delete(path);
        }
      }
      const found = await listSerialPorts(options.list ?? {});
      // Unplugged: the port left the USB listing. The read side usually reports it too (the link closes, above),
      // but not always at once (a PTY, a driver that keeps the node a while), and the listing is what says so.
      const listed = new Set(found.map((p) => p.path));
      for (const [path, a] of attached) {
        if (!a.autodetected || listed.has(path)) continue;
        log.info("serial: a wearable's port went away", { path });
        a.session.close();
        attached.delete(path);
        void a.link.close(); // not awaited: closing a vanished device can block, and the scan must go on
      }
      for (const port of found) {
        if (attached.has(port.path)) continue;
        const rule = cfg.autodetect.find((r) => r.vendorId === port.vendorId && r.productId === port.productId);
        if (!rule) continue;
        log.info("serial: found a wearable by USB id", { path: port.path, vendorId: port.vendorId, productId: port.productId });
        attach(
          {
            path: port.path,
            baudRate: rule.baudRate ?? baudRateFor(rule.profile ? profiles.get(rule.profile) : profiles.default),
            ...(rule.profile ? { profile: rule.profile } : {}),
          },
          true,
        );
      }
    } catch (err) {
      log.warn("serial: listing ports failed", { error: String((err as Error)?.message ?? err) });
    } finally {
      scanning = false;
    }
  };
  let scanTimer: NodeJS.Timeout | undefined;
  if (cfg.autodetect.length > 0) {
    await scan();
    scanTimer = setInterval(() => void scan(), cfg.scanIntervalMs);
  }

  const stopEvents = ctx.events.subscribe((e: EventEnvelope) => {
    for (const a of attached.values()) {
      if (!a.link.isOpen) continue;
      if (e.device === undefined || e.device === a.session.device) a.session.deliverEvent(e);
    }
  });

  log.info("serial channel started", {
    ports: cfg.ports.map((p) => p.path),
    autodetect: cfg.autodetect.map((r) => `${r.vendorId}:${r.productId}`),
    profiles: profiles.names(),
  });

  return {
    close: async () => {
      stopEvents();
      clearInterval(scanTimer);
      for (const a of attached.values()) a.session.close();
      await Promise.all([...attached.values()].map((a) => a.link.close()));
    },
    health: () => ({
      ports: [...attached.values()].map((a) => ({
        ...a.link.status(),
        autodetected: a.autodetected,
        ...a.session.status(),
      })),
      autodetect: cfg.autodetect.map((r) => `${r.vendorId}:${r.productId}`),
      ...stats.json(),
    }),
  };
}
