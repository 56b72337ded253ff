// Generated from schemas/video.schema.json by scripts/gen-types.mjs (npm run gen-types). Do not edit.

/**
 * media/video/<key>/<step>.json beside the video <step>.gif|.mp4|.webm|.ogg. Frames given as arrays are encoded by dvcstage (source 'array'); files and bytes are stored as given (source 'file'), with fps, frames, width and height only when the file could be read (GIF always; MP4/WebM/Ogg when PyAV is installed).
 */
export type VideoSidecar = FieldsEveryMediaSidecarShares & {
  kind: "video";
  /**
   * @minItems 1
   * @maxItems 1
   */
  files: [
    {
      role?: "video";
      path?: {
        [k: string]: unknown | undefined;
      };
    }
  ];
  /**
   * The container: gif (Pillow), mp4 (H.264), webm (VP9) or ogg; the payload's suffix.
   */
  format: "gif" | "mp4" | "webm" | "ogg";
  /**
   * array: frames encoded by dvcstage; file: a file or BytesIO stored byte for byte.
   */
  source: "array" | "file";
  /**
   * Frames per second: as logged for arrays, as the file declares for files.
   */
  fps?: number;
  /**
   * Frames logged (a GIF may hold fewer: identical consecutive frames are merged).
   */
  frames?: number;
  /**
   * Width of the stored frames in pixels.
   */
  width?: number;
  /**
   * Height of the stored frames in pixels.
   */
  height?: number;
  /**
   * How a batch of videos was tiled (W&B's layout, row by row; empty cells are black).
   */
  grid?: {
    rows: number;
    columns: number;
    videos: number;
  };
};

/**
 * Each item has a sidecar <stem>.json beside its files: media/<kind>/<key>/<step>.json, or plots/images/<key>/<step>.json for an image with overlays (a plain image has none). A kind's schema combines this one (allOf) with its own fields and closes the object with unevaluatedProperties: false.
 */
export interface FieldsEveryMediaSidecarShares {
  kind: "image" | "histogram" | "audio" | "video" | "table" | "html" | "object3d" | "molecule";
  key: string;
  step: number;
  item?: number;
  caption?: string;
  /**
   * The item's other files, relative to the sidecar's folder.
   */
  files: {
    path: string;
    role: string;
    name?: string;
  }[];
}
