// color-name ships no types: a map of CSS colour names to [r, g, b].
declare module "color-name" {
  const colors: Record<string, [number, number, number]>;
  export default colors;
}
