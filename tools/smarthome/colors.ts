// Spoken colour names -> what a light takes: CIE xy and hue/saturation for colours (via the CSS colour
// table of color-name and color-convert's sRGB -> XYZ/HSV), or a colour temperature for the whites.
import convert from "color-convert";
import cssColors from "color-name";

export type LightColor =
  | { kind: "temperature"; name: string; kelvin: number; mireds: number }
  | { kind: "color"; name: string; rgb: [number, number, number]; xy: { x: number; y: number }; hs: { hue: number; saturation: number } };

const WHITES: Array<[RegExp, number]> = [
  [/^(candle ?light|candle)$/, 2000],
  [/^(very warm|extra warm) ?(white)?$/, 2200],
  [/^(warm|soft|warm white|soft white|cozy|cosy)$/, 2700],
  [/^(neutral|neutral white|natural|natural white|white)$/, 4000],
  [/^(cool|cold|cool white|cold white|bright white)$/, 5000],
  [/^(daylight|day light|daylight white)$/, 6500],
];

function normalize(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z ]+/g, " ")
    .split(/\s+/)
    .filter((w) => w && !["the", "a", "to", "colour", "color", "ish"].includes(w))
    .join(" ");
}

const round = (n: number, d: number) => Math.round(n * 10 ** d) / 10 ** d;

/** "warm white" -> 2700 K; "blue" -> xy + hs; "light blue" -> CSS lightblue; undefined when unknown. */
export function parseColor(text: string): LightColor | undefined {
  const n = normalize(text);
  if (!n) return undefined;
  for (const [re, kelvin] of WHITES) {
    if (re.test(n)) return { kind: "temperature", name: n, kelvin, mireds: Math.round(1e6 / kelvin) };
  }
  const key = n.replace(/ /g, "").replace(/grey/g, "gray");
  const rgb = cssColors[key];
  if (!rgb) return undefined;
  const [X, Y, Z] = convert.rgb.xyz(rgb[0], rgb[1], rgb[2]);
  const sum = X + Y + Z;
  const xy = sum > 0 ? { x: round(X / sum, 4), y: round(Y / sum, 4) } : { x: 0.3127, y: 0.329 };
  const [h, s] = convert.rgb.hsv(rgb[0], rgb[1], rgb[2]);
  return { kind: "color", name: n, rgb: [rgb[0], rgb[1], rgb[2]], xy, hs: { hue: h, saturation: s } };
}
