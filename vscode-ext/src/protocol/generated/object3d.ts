// Generated from schemas/object3d.schema.json by scripts/gen-types.mjs (npm run gen-types). Do not edit.

/**
 * Beside each 3D object: its payload file (role 'object3d': <step>.obj, .gltf, .glb, .babylon, .stl stored byte for byte, or <step>.pts.json, see pts.schema.json) and what it holds. Point clouds and scenes also give their point, box and vector counts.
 */
export type Object3DSidecarMediaObject3DKeyStepJson = FieldsEveryMediaSidecarShares & {
  kind?: "object3d";
  format: "obj" | "gltf" | "glb" | "babylon" | "stl" | "pts.json";
  /**
   * pts.json only: 'points' (a bare point cloud) or 'lidar/beta'.
   */
  scene?: "points" | "lidar/beta";
  points?: number;
  boxes?: number;
  vectors?: number;
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
