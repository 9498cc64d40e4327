// Channels started with the daemon besides HTTP, MQTT and stdin (which the daemon core runs itself).
// Add a ChannelFactory here (the serial link to wearables, the microphone ...): `needled start` passes this
// list to the daemon, which starts each after the plugins and closes it first on shutdown.
import type { ChannelFactory } from "../daemon/daemon.js";
import { speechChannel } from "../speech/channel.js";
import { satelliteChannel } from "./satellite.js";
import { serialChannel } from "./serial.js";

export const channels: ChannelFactory[] = [serialChannel, satelliteChannel, speechChannel];
