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

/** Every box of a sidecar, in pixels of a `width` x `height` image. */
export function sidecarBoxes(sidecar: ImageSidecar | null | undefined, width: number, height: number): PixelBox[] {
  const out: PixelBox[] = [];
  if (!sidecar) return out;
  for (const [label, boxes] of Object.entries(sidecar.annotations ?? {})) {
    for (const b of boxes ?? []) {
      out.push({
        group: ANNOTATIONS_GROUP,
        label,
        classId: undefined,
        x0: b.box.left,
        x1: b.box.right,
        y0: b.box.top,
        y1: b.box.bottom,
        score: b.score,
        scores: { score: b.score },
        caption: undefined,
      });
    }
  }
  for (const [group, g] of Object.entries(sidecar.boxes ?? {})) {
    if (!g) continue;
    for (const box of g.box_data) out.push(wandbBox(group, box, g.class_labels, width, height));
  }
  return out;
}

export function isBoxVisible(box: PixelBox, settings: OverlaySettings): boolean {
  if (settings.hiddenGroups.has(box.group) || settings.hiddenClasses.has(box.label)) return false;
  return box.score === undefined || box.score >= settings.scoreThreshold;
}

/** The text drawn on a box: its caption (or class) and score. */
export function boxLabel(box: PixelBox): string {
  const name = box.caption ?? box.label;
  return box.score === undefined ? name : `${name} ${box.score.toFixed(2)}`;
}

/** The smallest visible box containing image point (x, y), for hover tooltips. */
export function boxAt(boxes: readonly PixelBox[], x: number, y: number, settings: OverlaySettings): PixelBox | undefined {
  let best: PixelBox | undefined;
  let bestArea = Infinity;
  for (const b of boxes) {
    if (x < b.x0 || x > b.x1 || y < b.y0 || y > b.y1 || !isBoxVisible(b, settings)) continue;
    const area = (b.x1 - b.x0) * (b.y1 - b.y0);
    if (area < bestArea) {
      best = b;
      bestArea = area;
    }
  }
  return best;
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
