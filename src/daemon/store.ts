// A plugin's key-value store: one JSON file per plugin, every write atomic.
import type { PluginStore } from "../plugins/api.js";
import { JsonStateFile, isPlainObject, type StateFileOptions } from "./state-file.js";

type Values = Record<string, unknown>;

export class FileStore implements PluginStore {
  private constructor(private readonly file: JsonStateFile<Values>) {}

  static async open(path: string, opts: Omit<StateFileOptions<Values>, "empty" | "check"> = {}): Promise<FileStore> {
    const file = await JsonStateFile.open<Values>(path, {
      ...opts,
      empty: () => ({}),
      check: (v) => (isPlainObject(v) ? undefined : "not a JSON object"),
    });
    return new FileStore(file);
  }

  get<T = unknown>(key: string): T | undefined {
    const v = this.file.data[key];
    // A copy, so that a caller mutating the result does not change the store behind its back.
    return v === undefined ? undefined : (structuredClone(v) as T);
  }

  async set(key: string, value: unknown): Promise<void> {
    if (typeof key !== "string" || key === "") throw new TypeError("store key must be a non-empty string");
    if (value === undefined) return this.delete(key);
    let json: string;
    try {
      json = JSON.stringify(value);
    } catch (err) {
      throw new TypeError(`store value for "${key}" is not JSON-serializable: ${(err as Error).message}`);
    }
    if (json === undefined) throw new TypeError(`store value for "${key}" is not JSON-serializable`);
    await this.file.update((d) => {
      d[key] = JSON.parse(json);
    });
  }

  async delete(key: string): Promise<void> {
    if (!(key in this.file.data)) return;
    await this.file.update((d) => {
      delete d[key];
    });
  }

  keys(): string[] {
    return Object.keys(this.file.data);
  }

  flush(): Promise<void> {
    return this.file.flush();
  }
}
