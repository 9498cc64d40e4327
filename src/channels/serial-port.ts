// Serial I/O on @serialport/bindings-cpp: listing ports (with USB vendor/product ids), and one port kept
// open with a read loop, a bounded write queue and reopening with exponential backoff after an unplug.
import { existsSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { autoDetect, type BindingInterface, type PortInfo } from "@serialport/bindings-cpp";
import type { Logger } from "../plugins/api.js";

type Binding = BindingInterface;
type OpenPort = Awaited<ReturnType<Binding["open"]>>;

let binding: Binding | undefined;
function bindings(): Binding {
  binding ??= autoDetect();
  return binding;
}

export interface SerialPortInfo {
  path: string;
  /** Lower-case hex, 4 digits ("2e8a"); undefined for non-USB ports. */
  vendorId?: string;
  productId?: string;
  manufacturer?: string;
  serialNumber?: string;
}

export interface ListOptions {
  /** Where sysfs is (tests point this at a made-up tree); default /sys. */
  sysRoot?: string;
  /** Where device nodes are; default /dev. */
  devRoot?: string;
}

/**
 * Serial ports on this machine. Linux: read from sysfs (the bindings' own list() needs `udevadm`, which
 * containers and minimal images often lack); elsewhere: the bindings' list().
 */
export async function listSerialPorts(opts: ListOptions = {}): Promise<SerialPortInfo[]> {
  if (process.platform === "linux" || opts.sysRoot) return listFromSysfs(opts.sysRoot ?? "/sys", opts.devRoot ?? "/dev");
  const ports: PortInfo[] = await bindings().list();
  return ports.map((p) => ({
    path: p.path,
    ...(p.vendorId ? { vendorId: normId(p.vendorId) } : {}),
    ...(p.productId ? { productId: normId(p.productId) } : {}),
    ...(p.manufacturer ? { manufacturer: p.manufacturer } : {}),
    ...(p.serialNumber ? { serialNumber: p.serialNumber } : {}),
  }));
}

export function normId(id: string | number): string {
  const s = typeof id === "number" ? id.toString(16) : id.trim().toLowerCase().replace(/^0x/, "");
  return s.padStart(4, "0");
}

const SERIAL_NAME = /^(tty(S|WCH|ACM|USB|AMA|MFD|O|XRUSB)\d|rfcomm\d)/;

function listFromSysfs(sysRoot: string, devRoot: string): SerialPortInfo[] {
  const classDir = join(sysRoot, "class", "tty");
  let names: string[];
  try {
    names = readdirSync(classDir);
  } catch {
    return [];
  }
  const out: SerialPortInfo[] = [];
  for (const name of names.sort()) {
    if (!SERIAL_NAME.test(name)) continue;
    const devLink = join(classDir, name, "device");
    let dev: string;
    try {
      dev = realpathSync(devLink);
    } catch {
      continue; // no hardware behind it (a virtual console)
    }
    if (basename(dev) === "serial8250") continue; // the legacy UART placeholders every PC has
    const info: SerialPortInfo = { path: join(devRoot, name) };
    // The USB device (with idVendor/idProduct) is the interface's parent, a level or two up.
    let d = dev;
    for (let i = 0; i < 4 && d.startsWith(sysRoot) && d !== sysRoot; i++, d = dirname(d)) {
      const vid = readAttr(d, "idVendor");
      if (vid === undefined) continue;
      info.vendorId = normId(vid);
      const pid = readAttr(d, "idProduct");
      if (pid !== undefined) info.productId = normId(pid);
      const man = readAttr(d, "manufacturer");
      if (man !== undefined) info.manufacturer = man;
      const serial = readAttr(d, "serial");
      if (serial !== undefined) info.serialNumber = serial;
      break;
    }
    out.push(info);
  }
  return out;
}

function readAttr(dir: string, name: string): string | undefined {
  try {
    return readFileSync(join(dir, name), "utf8").trim();
  } catch {
    return undefined;
  }
}

export type LinkState = "opening" | "open" | "waiting" | "closed";

export interface SerialLinkOptions {
  path: string;
  baudRate: number;
  log: Logger;
  /** Called with every chunk read. */
  onData: (chunk: Buffer) => void;
  onOpen?: () => void;
  /** The port went away (unplug, read error). */
  onLost?: (why: string) => void;
  /** Reopen after losing the port (default true); false: give up (autodetected ports are found again by the scan). */
  reopen?: boolean;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Frames waiting to be written beyond this are dropped (a device that does not read must not grow memory). */
  maxQueue?: number;
}

export interface SerialLinkStatus {
  path: string;
  baudRate: number;
  state: LinkState;
  /** Successful opens after the first. */
  reconnects: number;
  lastError?: string;
  since: string;
  writeDrops: number;
}

/** One serial port, kept open: a read loop, serialised writes, reopen with backoff. Never throws. */
export class SerialLink {
  private port: OpenPort | undefined;
  private state: LinkState = "opening";
  private since = Date.now();
  private opens = 0;
  private lastError: string | undefined;
  private backoff: number;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private queue: Buffer[] = [];
  private writing = false;
  private writeDrops = 0;
  private readonly minBackoff: number;
  private readonly maxBackoff: number;
  private readonly maxQueue: number;

  constructor(private readonly opts: SerialLinkOptions) {
    this.minBackoff = opts.minBackoffMs ?? 250;
    this.maxBackoff = opts.maxBackoffMs ?? 10_000;
    this.maxQueue = opts.maxQueue ?? 64;
    this.backoff = this.minBackoff;
    void this.open();
  }

  get path(): string {
    return this.opts.path;
  }

  get isOpen(): boolean {
    return this.state === "open";
  }

  status(): SerialLinkStatus {
    return {
      path: this.opts.path,
      baudRate: this.opts.baudRate,
      state: this.state,
      reconnects: Math.max(0, this.opens - 1),
      ...(this.lastError ? { lastError: this.lastError } : {}),
      since: new Date(this.since).toISOString(),
      writeDrops: this.writeDrops,
    };
  }

  /** Queues bytes for the port; dropped (and counted) while it is not open or the queue is full. */
  write(bytes: Buffer): boolean {
    if (this.state !== "open" || this.queue.length >= this.maxQueue) {
      this.writeDrops++;
      return false;
    }
    this.queue.push(bytes);
    void this.flush();
    return true;
  }

  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.setState("closed");
    this.queue = [];
    const p = this.port;
    this.port = undefined;
    if (p?.isOpen) await p.close().catch(() => {});
  }

  private setState(s: LinkState): void {
    if (this.state === s) return;
    this.state = s;
    this.since = Date.now();
  }

  private async open(): Promise<void> {
    if (this.stopped) return;
    this.setState("opening");
    let port: OpenPort;
    try {
      port = await bindings().open({ path: this.opts.path, baudRate: this.opts.baudRate, lock: true });
    } catch (err) {
      this.fail(message(err), false);
      return;
    }
    if (this.stopped) {
      await port.close().catch(() => {});
      return;
    }
    this.port = port;
    this.opens++;
    this.backoff = this.minBackoff;
    const wasDown = this.lastError !== undefined;
    this.lastError = undefined;
    this.setState("open");
    this.opts.log.info(wasDown ? "serial port reopened" : "serial port open", { path: this.opts.path, baudRate: this.opts.baudRate });
    this.opts.onOpen?.();
    void this.readLoop(port);
  }

  private async readLoop(port: OpenPort): Promise<void> {
    const buf = Buffer.alloc(4096);
    for (;;) {
      let n: number;
      try {
        ({ bytesRead: n } = await port.read(buf, 0, buf.length));
      } catch (err) {
        if (this.stopped || this.port !== port) return;
        this.port = undefined;
        await port.close().catch(() => {});
        this.fail(message(err), true);
        return;
      }
      if (n > 0) {
        try {
          this.opts.onData(Buffer.from(buf.subarray(0, n)));
        } catch (err) {
          this.opts.log.error("serial data handler threw", { path: this.opts.path, error: String(err) });
        }
      }
    }
  }

  private fail(why: string, wasOpen: boolean): void {
    if (this.stopped) return;
    const first = this.lastError === undefined || wasOpen;
    this.lastError = why;
    this.queue = [];
    if (wasOpen) this.opts.onLost?.(why);
    if (this.opts.reopen === false) {
      this.opts.log.warn("serial port lost", { path: this.opts.path, error: why });
      this.setState("closed");
      return;
    }
    this.setState("waiting");
    if (first) {
      this.opts.log.warn(wasOpen ? "serial port lost; reopening with backoff" : "serial port cannot be opened; retrying with backoff", {
        path: this.opts.path,
        error: why,
      });
    }
    const delay = this.backoff;
    this.backoff = Math.min(this.backoff * 2, this.maxBackoff);
    this.timer = setTimeout(() => void this.open(), delay);
  }

  private async flush(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.queue.length > 0 && this.port) {
        const chunk = this.queue.shift()!;
        try {
          await this.port.write(chunk);
        } catch (err) {
          this.writeDrops++;
          this.opts.log.debug("serial write failed", { path: this.opts.path, error: message(err) });
        }
      }
    } finally {
      this.writing = false;
    }
  }
}

function message(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.message ? (e.code ? `${e.code}: ${e.message}` : e.message) : String(err);
}

/** Does the path (or the symlink) exist right now? */
export function pathPresent(path: string): boolean {
  return existsSync(path);
}

/** Opens a port once (no reopening): for `needled device-sim` and tests. */
export async function openSerialPort(path: string, baudRate: number): Promise<OpenPort> {
  return bindings().open({ path, baudRate, lock: true });
}
export type { OpenPort };
