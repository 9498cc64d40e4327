// The wearables' config keys: serial.ports / serial.autodetect / devices / mqtt.share_group, with the
// errors a user sees for bad values.
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../src/daemon/config.js";
import { devicesConfig, deviceIdForPath, serialConfig } from "../src/channels/serial.js";

const problems = (text: string): string[] => {
  try {
    parseConfig(text, { env: {} });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe("wearable config", () => {
  it("defaults: no ports, no autodetection, the watch profile, no share group", () => {
    const c = parseConfig("", { env: {} });
    expect(serialConfig(c.raw)).toEqual({ ports: [], autodetect: [], scanIntervalMs: 2000, reconnect: { minMs: 250, maxMs: 10_000 } });
    expect(devicesConfig(c.raw)).toEqual({ profileDirs: [], defaultProfile: "watch" });
    expect(c.mqtt.shareGroup).toBeUndefined();
  });

  it("reads ports and autodetect rules (USB ids normalised to 4 lower-case hex digits)", () => {
    const c = parseConfig(
      [
        "serial:",
        "  ports: [{ path: /dev/ttyACM0, baud_rate: 115200, device: watch-1, profile: watch }]",
        '  autodetect: [{ vendor_id: "0x2E8A", product_id: "a", profile: glasses }]',
        "mqtt: { url: mqtt://broker:1883, share_group: hubs }",
      ].join("\n"),
      { env: {} },
    );
    expect(serialConfig(c.raw)).toMatchObject({
      ports: [{ path: "/dev/ttyACM0", baudRate: 115200, device: "watch-1", profile: "watch" }],
      autodetect: [{ vendorId: "2e8a", productId: "000a", profile: "glasses" }],
    });
    expect(c.mqtt.shareGroup).toBe("hubs");
  });

  it("names the key and the fix for bad values", () => {
    expect(problems('serial: { autodetect: [{ vendor_id: "xyz", product_id: "1" }] }')).toEqual([
      'serial.autodetect.0.vendor_id: must be a USB id in hex, such as "2e8a" (quote it in YAML)',
    ]);
    expect(problems("serial: { ports: [{ path: /dev/x, device: a/b }] }")[0]).toMatch(/^serial.ports.0.device: must be a device id/);
    expect(problems("serial: { ports: [{ baud_rate: 9600 }] }")).toEqual(["serial.ports.0.path: is required"]);
    expect(problems("serial: { port: [] }")[0]).toMatch(/^serial.port: unknown key/);
    expect(problems("mqtt: { url: mqtt://b:1883, share_group: a/b }")).toEqual(["mqtt.share_group: must be 1-64 letters, digits, _ or - (no / + #)"]);
    expect(problems("mqtt: { share_group: hubs }")[0]).toMatch(/^mqtt.share_group: needs mqtt.url/);
  });

  it("a port without a configured id is called after its path until the device says hello", () => {
    expect(deviceIdForPath("/dev/ttyUSB0")).toBe("serial-ttyUSB0");
    expect(deviceIdForPath("/dev/serial/by-id/usb-Raspberry Pi_Pico")).toBe("serial-usb-Raspberry_Pi_Pico");
  });
});
