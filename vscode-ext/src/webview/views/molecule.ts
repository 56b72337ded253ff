// Molecules in 3Dmol.js (bundled; WebGL): the structure file as logged, sticks and spheres,
// with RDKit's 2-D depiction beside it when there is one.
import * as $3Dmol from "3dmol";
import type { MoleculeSidecarMediaMoleculeKeyStepJson as MoleculeSidecar } from "../../protocol/generated/molecule";
import { el } from "../dom";
import { fetchText, fileUrl } from "../loader";
import { loadProblem, problemBadge } from "../problems";
import { itemCell } from "./audio";
import { errorText, type Cell, type CellContext } from "./types";

export function moleculeCell(ctx: CellContext): Cell {
  let viewer: { clear(): void } | undefined;
  let generation = 0;
  const cell = itemCell(ctx, "molecule", "molecule", (item) => {
    viewer?.clear();
    viewer = undefined;
    const gen = ++generation;
    const side = item.sidecar as MoleculeSidecar | null;
    const url = fileUrl(item, "molecule");
    const depiction = fileUrl(item, "depiction");
    const host = el("div", { class: "viewer3d molecule" });
    const info = el(
      "div",
      { class: "facts" },
      [side?.caption, side?.format, side?.smiles, side?.atoms !== undefined ? `${side.atoms} atoms` : undefined, side?.bonds !== undefined ? `${side.bonds} bonds` : undefined]
        .filter(Boolean)
        .join(" · "),
    );
    if (url) {
      fetchText(url).then(
        (text) => {
          if (gen !== generation) return;
          // 3Dmol measures its element: wait until it is laid out.
          requestAnimationFrame(() => {
            try {
              const v = $3Dmol.createViewer(host, { backgroundColor: "#111318" });
              v.addModel(text, side?.format ?? "pdb", { keepH: true });
              v.setStyle({}, { stick: { radius: 0.15 }, sphere: { scale: 0.25 } });
              v.zoomTo();
              v.render();
              viewer = v;
              host.dataset.atoms = String(v.getModel().selectedAtoms({}).length);
            } catch (err) {
              host.replaceChildren(el("div", { class: "error" }, `WebGL is not available: ${errorText(err)}`));
            }
          });
        },
        (err: unknown) => host.replaceChildren(problemBadge(loadProblem(item.files.find((f) => f.role === "molecule")?.path ?? "molecule", err, false))),
      );
    }
    const nodes: Node[] = [host, info];
    if (depiction) {
      const img = el("img", { class: "molecule-depiction", alt: `${ctx.key} depiction` });
      img.src = depiction;
      nodes.push(img);
    }
    return nodes;
  });
  return {
    ...cell,
    dispose() {
      viewer?.clear();
    },
  };
}
