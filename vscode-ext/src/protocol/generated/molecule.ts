// Generated from schemas/molecule.schema.json by scripts/gen-types.mjs (npm run gen-types). Do not edit.

/**
 * Beside each molecule: its structure file (role 'molecule', <step>.<format>), stored byte for byte when logged from a file, or an SDF written by RDKit (source 'smiles' or 'rdkit') together with a 2-D depiction (role 'depiction', <step>.png).
 */
export type MoleculeSidecarMediaMoleculeKeyStepJson = FieldsEveryMediaSidecarShares & {
  kind?: "molecule";
  format: "pdb" | "pqr" | "mmcif" | "mcif" | "cif" | "sdf" | "sd" | "gro" | "mol2" | "mmtf";
  /**
   * 'file': a structure file as given; 'smiles' or 'rdkit': written by RDKit.
   */
  source: "file" | "smiles" | "rdkit";
  /**
   * Canonical SMILES (RDKit sources).
   */
  smiles?: string;
  /**
   * Atoms in the stored structure, hydrogens included.
   */
  atoms?: number;
  bonds?: number;
  /**
   * '3d': embedded or given in 3D; '2d': a flat layout (no 3D conformer could be made or none was asked for).
   */
  coordinates?: "2d" | "3d";
  /**
   * The MMFF optimisation of embedded coordinates: converged, stopped at the iteration limit, or not possible (no MMFF parameters).
   */
  mmff?: "converged" | "not-converged" | "unavailable";
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
