// The systemd notify protocol (sd_notify(3)): "KEY=VALUE\n..." datagrams to the unix socket named by
// $NOTIFY_SOCKET, and the watchdog settings from $WATCHDOG_USEC / $WATCHDOG_PID.
//
// Node's dgram has no unix datagram sockets, so the socket is made with libc socket()/sendto() through
// koffi (already in the tree for Vosk; it ships prebuilt binaries for linux arm64/armhf/x64, so nothing
// compiles at install time). Spawning `systemd-notify` instead would fork+exec a process per watchdog
// ping, and its messages come from a short-lived child rather than the main pid, which systemd's default
// NotifyAccess=main rejects. One non-blocking socket is opened once and reused: a send is one syscall on
// the main thread, so a blocked event loop sends nothing (which is what the watchdog is for).
import koffi from "koffi";

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
// Linux values on x86, arm and arm64 (they differ only on alpha/mips/sparc/parisc).
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const MSG_NOSIGNAL = 0x4000;
const SUN_PATH_MAX = 108;

/** Where notify datagrams go: a socket path, or a name in the abstract namespace ("@name" in the env). */
export interface NotifyAddress {
  kind: "path" | "abstract";
  name: string;
}

/** $NOTIFY_SOCKET -> an address; undefined when unset; throws on a value no socket can have. */
export function parseNotifySocket(value: string | undefined): NotifyAddress | undefined {
  if (value === undefined || value === "") return undefined;
  if (value.startsWith("@")) {
    const name = value.slice(1);
    if (name.length === 0) throw new Error(`NOTIFY_SOCKET="${value}": empty abstract socket name`);
    if (Buffer.byteLength(name) > SUN_PATH_MAX - 1) throw new Error(`NOTIFY_SOCKET: abstract name longer than ${SUN_PATH_MAX - 1} bytes`);
    return { kind: "abstract", name };
  }
  if (!value.startsWith("/")) {
    // systemd also allows vsock:CID:PORT for VMs; needled never runs that way.
    throw new Error(`NOTIFY_SOCKET="${value}": expected an absolute socket path or @abstract-name`);
  }
  if (Buffer.byteLength(value) > SUN_PATH_MAX - 1) throw new Error(`NOTIFY_SOCKET: path longer than ${SUN_PATH_MAX - 1} bytes`);
  return { kind: "path", name: value };
}

/** struct sockaddr_un for `addr` and its length (an abstract name has no trailing NUL, per unix(7)). */
export function sockaddrUn(addr: NotifyAddress): { buf: Buffer; len: number } {
  const name = Buffer.from(addr.name);
  const buf = Buffer.alloc(2 + SUN_PATH_MAX);
  buf.writeUInt16LE(AF_UNIX, 0); // sa_family_t is host order; every Linux target needled runs on is little-endian
  if (addr.kind === "abstract") {
    name.copy(buf, 3); // sun_path[0] = 0 marks the abstract namespace
    return { buf, len: 2 + 1 + name.length };
  }
  name.copy(buf, 2);
  return { buf, len: 2 + name.length + 1 };
}

/**
 * The watchdog ping interval in ms: half of $WATCHDOG_USEC (as sd_watchdog_enabled(3) advises), or undefined
 * when there is no watchdog or it is meant for another process ($WATCHDOG_PID set and not ours).
 */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv, pid: number = process.pid): number | undefined {
  const usecText = env.WATCHDOG_USEC;
  if (!usecText) return undefined;
  if (!/^\d+$/.test(usecText)) throw new Error(`WATCHDOG_USEC="${usecText}" is not a number of microseconds`);
  const usec = Number(usecText);
  if (usec === 0) return undefined;
  const pidText = env.WATCHDOG_PID;
  if (pidText) {
    if (!/^\d+$/.test(pidText)) throw new Error(`WATCHDOG_PID="${pidText}" is not a process id`);
    if (Number(pidText) !== pid) return undefined;
  }
  return Math.max(1, Math.floor(usec / 2000));
}

/** One "KEY=VALUE" per line; values lose newlines (a STATUS with one would end the field early). */
export function formatMessage(fields: Record<string, string | number>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k}=${String(v).replace(/[\r\n]+/g, " ")}`)
    .join("\n");
}

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  sendto(fd: number, buf: Buffer, len: number, flags: number, addr: Buffer, addrlen: number): number;
  close(fd: number): number;
  strerror(errnum: number): string;
}

let libc: Libc | undefined;

function loadLibc(): Libc {
  if (libc) return libc;
  let lib: ReturnType<typeof koffi.load> | undefined;
  let lastErr: unknown;
  for (const name of ["libc.so.6", "libc.so"]) {
    try {
      lib = koffi.load(name);
      break;
    } catch (err) {
      lastErr = err;
    }
  }
  if (!lib) throw new Error(`cannot load libc for the notify socket: ${(lastErr as Error)?.message ?? lastErr}`);
  libc = {
    socket: lib.func("int socket(int domain, int type, int protocol)"),
    sendto: lib.func("intptr_t sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t addrlen)"),
    close: lib.func("int close(int fd)"),
    strerror: lib.func("const char *strerror(int errnum)"),
  };
  return libc;
}

export class NotifyError extends Error {
  override name = "NotifyError";
  constructor(
    message: string,
    readonly errno: number,
  ) {
    super(message);
  }
}

/** A unix datagram socket that sends notify messages to one address. */
export class NotifySocket {
  private fd: number;
  private readonly addr: { buf: Buffer; len: number };

  constructor(readonly address: NotifyAddress) {
    const c = loadLibc();
    this.addr = sockaddrUn(address);
    this.fd = c.socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (this.fd < 0) {
      const e = koffi.errno();
      throw new NotifyError(`socket(AF_UNIX, SOCK_DGRAM) failed: ${c.strerror(e)}`, e);
    }
  }

  /** Sends one datagram; throws NotifyError (EAGAIN when the receiver's queue is full, ENOENT/ECONNREFUSED ...). */
  send(message: string): void {
    if (this.fd < 0) throw new NotifyError("the notify socket is closed", 9 /* EBADF */);
    const c = loadLibc();
    const data = Buffer.from(message);
    const n = c.sendto(this.fd, data, data.length, MSG_NOSIGNAL, this.addr.buf, this.addr.len);
    if (n < 0) {
      const e = koffi.errno();
      const where = this.address.kind === "abstract" ? `@${this.address.name}` : this.address.name;
      throw new NotifyError(`sendto ${where}: ${c.strerror(e)}`, e);
    }
  }

  close(): void {
    if (this.fd >= 0) loadLibc().close(this.fd);
    this.fd = -1;
  }
}
