// Generated from schemas/image-sidecar.schema.json by scripts/gen-types.mjs (npm run gen-types). Do not edit.

export type Position =
  | {
      minX: number;
      maxX: number;
      minY: number;
      maxY: number;
    }
  | {
      /**
       * @minItems 2
       * @maxItems 2
       */
      middle: [number, number];
      width: number;
      height: number;
    };

/**
 * The JSON file beside a logged image (numpy.png -> numpy.json). 'annotations' is exactly DVCLive's documented layout, so a reader that only knows it still works; W&B-style box groups, masks and the caption sit beside it.
 */
export interface ImageSidecar {
  kind?: unknown;
  key?: unknown;
  item?: unknown;
  files?: unknown;
  /**
   * DVCLive's layout: class label -> boxes in pixels as top/left/bottom/right, each with its score.
   */
  annotations?: {
    [k: string]: LabelledBox[] | undefined;
  };
  /**
   * W&B's bounding-box groups (predictions, ground_truth, ...), as logged.
   */
  boxes?: {
    [k: string]: BoxGroup | undefined;
  };
  /**
   * W&B's segmentation masks: each a lossless PNG of class ids (8- or 16-bit) beside the image.
   */
  masks?: {
    [k: string]: Mask | undefined;
  };
  caption?: string;
  step?: number;
  width?: number;
  height?: number;
}
export interface LabelledBox {
  box: {
    top: number;
    left: number;
    bottom: number;
    right: number;
  };
  score: number;
}
export interface BoxGroup {
  box_data: Box[];
  class_labels: ClassLabels;
}
export interface Box {
  position: Position;
  class_id: number;
  box_caption?: string;
  scores?: {
    [k: string]: number | undefined;
  };
  domain?: "pixel";
}
/**
 * Class id (an integer, written as a JSON object key) -> readable name.
 */
export interface ClassLabels {
  [k: string]: string | undefined;
}
export interface Mask {
  /**
   * The mask PNG, relative to the sidecar's folder.
   */
  path: string;
  class_labels: ClassLabels;
  bit_depth?: 8 | 16;
}
