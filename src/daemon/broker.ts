// The embedded MQTT broker (aedes on a plain TCP server), run when no external broker is configured so
// that `npm start` works on its own. Loopback by default.
import { createServer, type Server } from "node:net";
import { Aedes } from "aedes";
import type { Logger } from "../plugins/api.js";
import { ConfigError } from "./config.js";

export class EmbeddedBroker {
  private constructor(
    private readonly aedes: Aedes,
    private readonly server: Server,
    readonly host: string,
    readonly port: number,
  ) {}

  /** Starts listening; a port in use is a ConfigError naming the port and the key to change. */
  static async start(opts: { host: string; port: number; log: Logger }): Promise<EmbeddedBroker> {
    const aedes = await Aedes.createBroker();
    aedes.on("clientError", (client, err) => opts.log.debug("mqtt broker: client error", { client: client?.id, error: err.message }));
    const server = createServer(aedes.handle);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(opts.port, opts.host, () => {
          server.off("error", reject);
          resolve();
        });
      });
    } catch (err) {
      await new Promise<void>((r) => aedes.close(() => r()));
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EADDRINUSE") {
        throw new ConfigError([
          `mqtt.broker.port: port ${opts.port} on ${opts.host} is already in use (another MQTT broker?); ` +
            `set mqtt.url to use that broker, or mqtt.broker.port to a free port`,
        ]);
      }
      if (code === "EACCES") {
        throw new ConfigError([`mqtt.broker.port: not allowed to listen on port ${opts.port} (ports below 1024 need privileges)`]);
      }
      if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") {
        throw new ConfigError([`mqtt.broker.host: cannot listen on ${opts.host} (${code})`]);
      }
      throw err;
    }
    const addr = server.address();
    const port = typeof addr === "object" && addr ? addr.port : opts.port;
    opts.log.info("embedded mqtt broker listening", { host: opts.host, port });
    return new EmbeddedBroker(aedes, server, opts.host, port);
  }

  get url(): string {
    const host = this.host.includes(":") ? `[${this.host}]` : this.host;
    return `mqtt://${host}:${this.port}`;
  }

  async close(): Promise<void> {
    // Stop accepting first, then let aedes drop the clients; the server is closed once they are gone.
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
    await closed;
  }
}
