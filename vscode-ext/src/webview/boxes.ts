// Boxes of an image sidecar (schemas/image-sidecar.schema.json) as pixel rectangles:
// DVCLive's `annotations` (label -> top/left/bottom/right in pixels, with a score) and W&B's
// `boxes` groups (position as minX/maxX/minY/maxY or middle/width/height, fractions of the
// image unless "domain": "pixel"). Pure; the overlay draws what this returns.
import type { Box, ImageSidecar, Position } from "../protocol/generated/image-sidecar";
import { className } from "./colors";
import type { OverlaySettings } from "./state";

/** The group DVCLive's `annotations` boxes are shown under. */
export const ANNOTATIONS_GROUP = "annotations";

export interface PixelBox {
  group: string;
  /** The class name (label), also the key of its colour and toggle. */
  label: string;
  classId: number | undefined;
  /** Image pixels; x0 <= x1, y0 <= y1. */
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** The score the threshold applies to (annotations' score; W&B's "score"/"confidence" or first score). */
  score: number | undefined;
  scores: Record<string, number>;
  caption: string | undefined;
}

/** A W&B position in pixels. Fractions are of the image's width and height. */
export function positionToPixels(position: Position, pixel: boolean, width: number, height: number): { x0: number; y0: number; x1: number; y1: number } {
  const sx = pixel ? 1 : width;
  const sy = pixel ? 1 : height;
  if ("minX" in position) {
    return { x0: position.minX * sx, x1: position.maxX * sx, y0: position.minY * sy, y1: position.maxY * sy };
  }
  const [mx, my] = position.middle;
  return {
    x0: (mx - position.width / 2) * sx,
    x1: (mx + position.width / 2) * sx,
    y0: (my - position.height / 2) * sy,
    y1: (my + position.height / 2) * sy,
  };
}

function mainScore(scores: Record<string, number>): number | undefined {
  if (typeof scores.score === "number") return scores.score;
  if (typeof scores.confidence === "number") return scores.confidence;
  for (const v of Object.values(scores)) if (typeof v === "number") return v;
  return undefined;
}

function wandbBox(group: string, box: Box, labels: Record<string, string | undefined>, width: number, height: number): PixelBox {
  const scores: Record<string, number> = {};
  for (const [k, v] of Object.entries(box.scores ?? {})) if (typeof v === "number") scores[k] = v;
  return {
    group,
    label: className(labels, box.class_id),
    classId: box.class_id,
    ...positionToPixels(box.position, box.domain === "pixel", width, height),
    score: mainScore(scores),
    scores,
    caption: box.box_caption,
  };
}

/** The class id a label has in any of the sidecar's label maps (W&B boxes, masks). */
export function labelIds(sidecar: ImageSidecar | null | undefined): Map<string, number> {
  const ids = new Map<string, number>();
  const add = (labels: Record<string, string | undefined> | undefined): void => {
    for (const [id, name] of Object.entries(labels ?? {})) {
      const n = Number(id);
      if (name !== undefined && Number.isInteger(n) && !ids.has(name)) ids.set(name, n);
    }
  };
  for (const g of Object.values(sidecar?.boxes ?? {})) add(g?.class_labels);
  for (const m of Object.values(sidecar?.masks ?? {})) add(m?.class_labels);
  return ids;
}

const finite = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** Why a W&B position cannot be drawn, or undefined when it can. */
function positionProblem(position: unknown): string | undefined {
  if (typeof position !== "object" || position === null) return "has no position";
  const p = position as Record<string, unknown>;
  if ("minX" in p || "maxX" in p) {
    for (const k of ["minX", "maxX", "minY", "maxY"]) if (!finite(p[k])) return `position.${k} is ${JSON.stringify(p[k])}, not a number`;
    if ((p.minX as number) > (p.maxX as number) || (p.minY as number) > (p.maxY as number)) return "position: min is larger than max";
    return undefined;
  }
  const middle = p.middle;
  if (!Array.isArray(middle) || middle.length !== 2 || !middle.every(finite)) return "position.middle is not [x, y]";
  if (!finite(p.width) || !finite(p.height)) return "position.width or height is not a number";
  return undefined;
}

/**
 * Every box of a sidecar, in pixels of a `width` x `height` image, and what could not be
 * drawn (a malformed box is skipped and named, never guessed).
 */
export function readBoxes(sidecar: ImageSidecar | null | undefined, width: number, height: number): { boxes: PixelBox[]; problems: string[] } {
  const boxes: PixelBox[] = [];
  const problems: string[] = [];
  if (!sidecar) return { boxes, problems };
  if (typeof sidecar !== "object") return { boxes, problems: ["the sidecar is not an object"] };
  const ids = labelIds(sidecar);
  const annotations = sidecar.annotations ?? {};
  if (typeof annotations !== "object" || annotations === null) problems.push("annotations is not an object");
  else {
    for (const [label, list] of Object.entries(annotations)) {
      if (!Array.isArray(list)) {
        problems.push(`annotations.${label} is not a list`);
        continue;
      }
      list.forEach((b, i) => {
        const box = (b as { box?: Record<string, unknown> } | null)?.box;
        if (!box || !["top", "left", "bottom", "right"].every((k) => finite(box[k]))) {
          problems.push(`annotations.${label}[${i}].box needs numbers top, left, bottom, right`);
          return;
        }
        const score = (b as { score?: unknown }).score;
        boxes.push({
          group: ANNOTATIONS_GROUP,
          label,
          classId: ids.get(label),
          x0: box.left as number,
          x1: box.right as number,
          y0: box.top as number,
          y1: box.bottom as number,
          score: finite(score) ? score : undefined,
          scores: finite(score) ? { score } : {},
          caption: undefined,
        });
      });
    }
  }
  const groups = sidecar.boxes ?? {};
  if (typeof groups !== "object" || groups === null) problems.push("boxes is not an object");
  else {
    for (const [group, g] of Object.entries(groups)) {
      if (!g || !Array.isArray(g.box_data)) {
        problems.push(`boxes.${group}.box_data is not a list`);
        continue;
      }
      g.box_data.forEach((box, i) => {
        const why = positionProblem(box?.position);
        if (why) problems.push(`boxes.${group}.box_data[${i}]: ${why}`);
        else boxes.push(wandbBox(group, box, g.class_labels ?? {}, width, height));
      });
    }
  }
  return { boxes, problems };
}

/** Every box of a sidecar, in pixels of a `width` x `height` image (malformed boxes left out). */
export function sidecarBoxes(sidecar: ImageSidecar | null | undefined, width: number, height: number): PixelBox[] {
  return readBoxes(sidecar, width, height).boxes;
}

export function isBoxVisible(box: PixelBox, settings: OverlaySettings): boolean {
  if (settings.hiddenGroups.has(box.group) || settings.hiddenClasses.has(box.label)) return false;
  return box.score === undefined || box.score >= settings.scoreThreshold;
}

/**
 * The text drawn on a box: its caption (or class) and score -- the score once, even when the
 * caption already carries it (W&B's `box_caption: "person 0.87"`).
 */
export function boxLabel(box: PixelBox): string {
  const name = box.caption ?? box.label;
  if (box.score === undefined) return name;
  const score = box.score.toFixed(2);
  const shown = name.match(/-?\d*\.?\d+(?:e-?\d+)?/gi) ?? [];
  if (shown.some((t) => Math.abs(Number(t) - box.score!) < 0.005 || t === score)) return name;
  return `${name} ${score}`;
}

/** Ground truth, by its group's name: drawn solid; other groups dashed. */
export function isTruthGroup(group: string): boolean {
  return /^(ground[\s_-]?truth|gt|truths?|labels?|targets?|annotated|reference)$/i.test(group);
}

/** The line dash of a group's boxes, given every group the image holds. */
export function groupDash(group: string, groups: readonly string[]): number[] {
  if (groups.length < 2 || isTruthGroup(group)) return [];
  return [7, 5];
}

/** Every visible box containing image point (x, y), smallest first (for hover tooltips). */
export function boxesAt(boxes: readonly PixelBox[], x: number, y: number, settings: OverlaySettings): PixelBox[] {
  return boxes
    .filter((b) => x >= b.x0 && x <= b.x1 && y >= b.y0 && y <= b.y1 && isBoxVisible(b, settings))
    .sort((a, b) => (a.x1 - a.x0) * (a.y1 - a.y0) - (b.x1 - b.x0) * (b.y1 - b.y0));
}

/** The smallest visible box containing image point (x, y). */
export function boxAt(boxes: readonly PixelBox[], x: number, y: number, settings: OverlaySettings): PixelBox | undefined {
  return boxesAt(boxes, x, y, settings)[0];
}

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

function overlaps(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/**
 * Where each label goes: above its box, else inside its top, else below it, else inside its
 * bottom -- the first place that overlaps no label placed before and stays on the stage.
 * A label with no free place is left out (undefined); hovering still shows it.
 */
export function placeLabels(labels: readonly { box: Rect; w: number; h: number }[], stage: { w: number; h: number }): (Rect | undefined)[] {
  const placed: Rect[] = [];
  return labels.map(({ box, w, h }) => {
    const x = Math.min(Math.max(0, box.x - 1), Math.max(0, stage.w - w));
    const candidates: Rect[] = [
      { x, y: box.y - h, w, h },
      { x, y: box.y, w, h },
      { x, y: box.y + box.h, w, h },
      { x, y: box.y + box.h - h, w, h },
    ];
    const spot = candidates.find((c) => c.y >= 0 && c.y + c.h <= stage.h && !placed.some((p) => overlaps(p, c)));
    if (spot) placed.push(spot);
    return spot;
  });
}

/** Groups and classes found in some boxes, sorted, for the toggles. */
export function groupsAndClasses(boxes: readonly PixelBox[]): { groups: string[]; classes: string[] } {
  const groups = new Set<string>();
  const classes = new Set<string>();
  for (const b of boxes) {
    groups.add(b.group);
    classes.add(b.label);
  }
  return { groups: [...groups].sort(), classes: [...classes].sort() };
}
