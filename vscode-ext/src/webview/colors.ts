// Stable per-class colours: a class's colour depends only on its name (or, without a name,
// its id), so "cat" has the same colour in every run, step, box group and mask.

/** 24 distinct colours, readable on dark and light images (Tableau 20 + 4). */
export const PALETTE = [
  "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
  "#9c755f", "#bab0ac", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
  "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#00e5ff", "#ff4081", "#76ff03", "#ffd600",
] as const;

/** FNV-1a, 32 bit. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function classColor(name: string): string {
  return PALETTE[hashString(name) % PALETTE.length] as string;
}

/** "#rrggbb" -> [r, g, b]. */
export function rgbOf(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** The name a class is known by: its label, else "class <id>". */
export function className(labels: Record<string, string | undefined> | undefined, classId: number): string {
  return labels?.[String(classId)] ?? `class ${classId}`;
}

/** Black or white, whichever reads better on `hex` (relative luminance). */
export function textColorOn(hex: string): string {
  const [r, g, b] = rgbOf(hex).map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.35 ? "#000" : "#fff";
}
