// Generated from schemas/audio.schema.json by scripts/gen-types.mjs (npm run gen-types). Do not edit.

/**
 * A logged audio clip's sidecar: media/audio/<key>/<step>.json (<key>/<item>/<step>.json for list items) beside the clip (<step>.wav, .flac, .mp3 or .ogg; files[0], role audio). Arrays are written as 16-bit PCM WAV; files are stored as they were logged. sample_rate, channels, frames and duration_s are null where a file's header was not read (MP3, Ogg).
 */
export type AudioClipSidecar = FieldsEveryMediaSidecarShares & {
  kind?: "audio";
  /**
   * @minItems 1
   * @maxItems 1
   */
  files?: [
    {
      role?: "audio";
    }
  ];
  format: "wav" | "flac" | "mp3" | "ogg";
  /**
   * Samples per second.
   */
  sample_rate: number | null;
  channels: number | null;
  /**
   * Samples per channel.
   */
  frames: number | null;
  /**
   * frames / sample_rate.
   */
  duration_s: number | null;
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
