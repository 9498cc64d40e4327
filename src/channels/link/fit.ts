// Fitting text to a small screen: word wrap to `columns` characters (grapheme clusters, so "é" or a flag
// emoji is one), at most `lines` lines, an ellipsis at the end of the last line when text was cut.
// Whitespace runs collapse to one space; "\n" starts a new line (blank lines are dropped: a 4-line screen
// has no room for them). A word longer than a line is split.

export interface Screen {
  lines: number;
  columns: number;
  /** Put at the end of the last line when text was left out (default "…"). */
  ellipsis?: string;
}

export interface Fitted {
  lines: string[];
  truncated: boolean;
}

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });

function graphemes(s: string): string[] {
  return Array.from(segmenter.segment(s), (x) => x.segment);
}

export function fitText(text: string, screen: Screen): Fitted {
  const { lines: maxLines, columns } = screen;
  if (!Number.isInteger(maxLines) || maxLines < 1) throw new RangeError(`lines must be an integer >= 1, got ${maxLines}`);
  if (!Number.isInteger(columns) || columns < 1) throw new RangeError(`columns must be an integer >= 1, got ${columns}`);
  const ellipsis = graphemes(screen.ellipsis ?? "…").slice(0, columns);

  // Every line the text wraps to, before cutting to maxLines.
  const all: string[][] = [];
  for (const paragraph of text.replace(/\r\n?/g, "\n").split("\n")) {
    const words = paragraph.split(/\s+/).filter((w) => w !== "");
    let line: string[] = [];
    for (const word of words) {
      let g = graphemes(word);
      const needed = line.length === 0 ? g.length : line.length + 1 + g.length;
      if (needed <= columns) {
        if (line.length > 0) line.push(" ");
        line.push(...g);
        continue;
      }
      if (line.length > 0) all.push(line);
      line = [];
      while (g.length > columns) {
        all.push(g.slice(0, columns));
        g = g.slice(columns);
      }
      line = g;
    }
    if (line.length > 0) all.push(line);
  }

  if (all.length <= maxLines) return { lines: all.map((l) => l.join("")), truncated: false };

  const kept = all.slice(0, maxLines);
  let last = kept[maxLines - 1]!;
  // Make room for the ellipsis, preferring to cut at a space.
  const room = columns - ellipsis.length;
  if (last.length > room) {
    const cut = last.slice(0, room);
    const space = cut.lastIndexOf(" ");
    last = space > 0 ? cut.slice(0, space) : cut;
  }
  while (last.length > 0 && last[last.length - 1] === " ") last = last.slice(0, -1);
  kept[maxLines - 1] = [...last, ...ellipsis];
  return { lines: kept.map((l) => l.join("")), truncated: true };
}

/** Cuts a string to at most `maxBytes` of UTF-8 without splitting a character. */
export function clampUtf8(s: string, maxBytes: number): string {
  if (Buffer.byteLength(s, "utf8") <= maxBytes) return s;
  let out = "";
  let used = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch, "utf8");
    if (used + n > maxBytes) break;
    out += ch;
    used += n;
  }
  return out;
}
