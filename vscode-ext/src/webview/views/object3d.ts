// 3D objects in three.js: point clouds and lidar scenes (pts.json: points, 3D boxes, vectors)
// and meshes (OBJ, glTF/GLB, STL). At most MAX_POINTS points are drawn; a larger cloud is
// sampled evenly and the view says so.
import {
  AmbientLight, ArrowHelper, Box3, BufferGeometry, Color, DirectionalLight, Float32BufferAttribute, Group,
  LineBasicMaterial, LineSegments, Mesh, MeshStandardMaterial, type Object3D, PerspectiveCamera, Points,
  PointsMaterial, Scene, Sphere, Vector3, WebGLRenderer,
} from "three";
import { OrbitControls } from "three/examples/jsm/controls/OrbitControls.js";
import { GLTFLoader } from "three/examples/jsm/loaders/GLTFLoader.js";
import { OBJLoader } from "three/examples/jsm/loaders/OBJLoader.js";
import { STLLoader } from "three/examples/jsm/loaders/STLLoader.js";
import type { Object3DSidecarMediaObject3DKeyStepJson as Object3DSidecar } from "../../protocol/generated/object3d";
import type { PointCloudOrLidarSceneStepPtsJson as PtsDocument } from "../../protocol/generated/pts";
import { PALETTE, rgbOf } from "../colors";
import { el, swatch } from "../dom";
import { fetchJson, fileUrl } from "../loader";
import { rampColor } from "./histogram";
import { loadProblem, problemBadge } from "../problems";
import { itemCell } from "./audio";
import { errorText, type Cell, type CellContext } from "./types";

export const MAX_POINTS = 300_000;

/** Indices of the points drawn: all, or `max` spread evenly. */
export function samplePoints(count: number, max = MAX_POINTS): { indices: Uint32Array | undefined; drawn: number } {
  if (count <= max) return { indices: undefined, drawn: count };
  const indices = new Uint32Array(max);
  const stride = count / max;
  for (let i = 0; i < max; i++) indices[i] = Math.floor(i * stride);
  return { indices, drawn: max };
}

type V3 = [number, number, number];
const sub = (a: readonly number[], b: readonly number[]): V3 => [a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!];
const dot = (a: V3, b: V3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

/**
 * The 12 edges of a box given its 8 corners in any order. From the first corner, the three
 * edge vectors are the only three corner offsets that are pairwise orthogonal; every other
 * corner is a sum of some of them, and edges join corners that differ by one of them.
 */
export function boxEdges(corners: readonly (readonly number[])[]): [number, number][] {
  const c0 = corners[0] ?? [0, 0, 0];
  const offsets = corners.map((c) => sub(c, c0));
  const ortho = (i: number, j: number): boolean => {
    const a = offsets[i] as V3;
    const b = offsets[j] as V3;
    return Math.abs(dot(a, b)) <= 1e-6 * Math.max(1e-12, Math.sqrt(dot(a, a) * dot(b, b))) && dot(a, a) > 0 && dot(b, b) > 0;
  };
  for (let a = 1; a < 8; a++) for (let b = a + 1; b < 8; b++) for (let c = b + 1; c < 8; c++) {
    if (!(ortho(a, b) && ortho(a, c) && ortho(b, c))) continue;
    const axes = [offsets[a], offsets[b], offsets[c]] as V3[];
    // Each corner's bits: which axes it adds to the first corner.
    const bits = offsets.map((o) => axes.reduce((m, e, k) => m | (dot(o, e) / dot(e, e) > 0.5 ? 1 << k : 0), 0));
    const at = new Map(bits.map((m, i) => [m, i]));
    if (at.size !== 8) continue;
    const edges: [number, number][] = [];
    for (const [m, i] of at) for (let k = 0; k < 3; k++) if (!(m & (1 << k))) edges.push([i, at.get(m | (1 << k)) as number]);
    return edges;
  }
  return []; // not a box: draw no edges rather than wrong ones
}

function pointCloud(doc: PtsDocument): { object: Object3D; total: number; drawn: number } {
  const rows = doc.points as unknown as number[][];
  const { indices, drawn } = samplePoints(rows.length);
  const pos = new Float32Array(drawn * 3);
  const col = new Float32Array(drawn * 3);
  let zmin = Infinity;
  let zmax = -Infinity;
  for (let k = 0; k < drawn; k++) {
    const z = (rows[indices ? (indices[k] as number) : k] as number[])[2] as number;
    zmin = Math.min(zmin, z);
    zmax = Math.max(zmax, z);
  }
  const categories = PALETTE.slice(0, 14).map((hex) => rgbOf(hex));
  for (let k = 0; k < drawn; k++) {
    const p = rows[indices ? (indices[k] as number) : k] as number[];
    pos.set([p[0] as number, p[1] as number, p[2] as number], k * 3);
    let rgb: [number, number, number];
    if (p.length >= 6) rgb = [p[3] as number, p[4] as number, p[5] as number];
    else if (p.length === 4) rgb = categories[((p[3] as number) - 1 + 14) % 14] as [number, number, number];
    else rgb = rampColor(zmax > zmin ? ((p[2] as number) - zmin) / (zmax - zmin) : 0.5);
    col.set([rgb[0] / 255, rgb[1] / 255, rgb[2] / 255], k * 3);
  }
  const geometry = new BufferGeometry();
  geometry.setAttribute("position", new Float32BufferAttribute(pos, 3));
  geometry.setAttribute("color", new Float32BufferAttribute(col, 3));
  return { object: new Points(geometry, new PointsMaterial({ size: 2, sizeAttenuation: false, vertexColors: true })), total: rows.length, drawn };
}

function sceneObjects(doc: PtsDocument): Group {
  const group = new Group();
  for (const box of doc.boxes ?? []) {
    const corners = box.corners as unknown as number[][];
    const pos: number[] = [];
    for (const [a, b] of boxEdges(corners)) pos.push(...(corners[a] as number[]).slice(0, 3), ...(corners[b] as number[]).slice(0, 3));
    const g = new BufferGeometry();
    g.setAttribute("position", new Float32BufferAttribute(pos, 3));
    const [r, gg, b] = box.color;
    group.add(new LineSegments(g, new LineBasicMaterial({ color: new Color(r / 255, gg / 255, b / 255) })));
  }
  for (const v of doc.vectors ?? []) {
    const s = new Vector3(...((v.start as unknown as number[]).slice(0, 3) as [number, number, number]));
    const e = new Vector3(...((v.end as unknown as number[]).slice(0, 3) as [number, number, number]));
    const dir = e.clone().sub(s);
    const len = dir.length();
    if (len > 0) group.add(new ArrowHelper(dir.normalize(), s, len, 0xffffff, Math.min(len * 0.2, 1), Math.min(len * 0.1, 0.5)));
  }
  return group;
}

async function loadMesh(url: string, format: string): Promise<Object3D> {
  const material = new MeshStandardMaterial({ color: 0x9fb4c8, metalness: 0.1, roughness: 0.7 });
  if (format === "stl") return new Mesh(await new STLLoader().loadAsync(url), material);
  if (format === "obj") return new OBJLoader().loadAsync(url);
  if (format === "gltf" || format === "glb") return (await new GLTFLoader().loadAsync(url)).scene;
  throw new Error(`${format} files are not drawn here; open the file instead`);
}

/** A WebGL view of one object; renders on demand (orbit, resize), not in a loop. */
class Viewer {
  readonly el = el("div", { class: "viewer3d" });
  private readonly renderer: WebGLRenderer;
  private readonly scene = new Scene();
  private readonly camera = new PerspectiveCamera(50, 1, 0.01, 1e6);
  private readonly controls: OrbitControls;
  private readonly resize: ResizeObserver;

  constructor(object: Object3D, note: string) {
    this.renderer = new WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
    this.renderer.setPixelRatio(window.devicePixelRatio || 1);
    this.el.append(this.renderer.domElement);
    if (note) this.el.append(el("div", { class: "note3d" }, note));
    this.scene.background = new Color(0x111318);
    this.scene.add(new AmbientLight(0xffffff, 0.6));
    const light = new DirectionalLight(0xffffff, 1.2);
    light.position.set(1, 2, 3);
    this.scene.add(light, object);
    const sphere = new Box3().setFromObject(object).getBoundingSphere(new Sphere());
    const r = Number.isFinite(sphere.radius) && sphere.radius > 0 ? sphere.radius : 1;
    this.camera.up.set(0, 0, 1); // lidar convention: z up
    this.camera.position.copy(sphere.center).add(new Vector3(r * 1.6, -r * 1.6, r * 1.1));
    this.camera.near = r / 1000;
    this.camera.far = r * 100;
    this.controls = new OrbitControls(this.camera, this.renderer.domElement);
    this.controls.target.copy(sphere.center);
    this.controls.addEventListener("change", () => this.render());
    this.controls.update();
    this.resize = new ResizeObserver(() => this.fit());
    this.resize.observe(this.el);
  }

  private fit(): void {
    const w = this.el.clientWidth;
    const h = this.el.clientHeight;
    if (!w || !h) return;
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    this.render();
  }

  render(): void {
    this.renderer.render(this.scene, this.camera);
  }

  dispose(): void {
    this.resize.disconnect();
    this.controls.dispose();
    this.scene.traverse((o) => {
      const m = o as Partial<Mesh>;
      m.geometry?.dispose();
      const mat = m.material;
      if (Array.isArray(mat)) mat.forEach((x) => x.dispose());
      else mat?.dispose();
    });
    this.renderer.dispose();
    this.renderer.forceContextLoss();
  }
}

export function object3dCell(ctx: CellContext): Cell {
  let viewer: Viewer | undefined;
  let generation = 0;
  const cell = itemCell(ctx, "object3d", "object3d", (item) => {
    viewer?.dispose();
    viewer = undefined;
    const gen = ++generation;
    const side = item.sidecar as Object3DSidecar | null;
    const url = fileUrl(item, "object3d");
    const slot = el("div", { class: "viewer3d loading" });
    const info = el("div", { class: "facts" });
    const legend = el("div", { class: "facts legend" });
    const format = side?.format ?? (url?.endsWith(".pts.json") ? "pts.json" : (url?.split(".").pop() ?? ""));
    const base = [side?.caption, format, side?.scene === "lidar/beta" ? "lidar scene" : undefined];
    info.textContent = base.filter(Boolean).join(" · ");
    const build = async (): Promise<{ object: Object3D; note: string }> => {
      if (!url) throw new Error("no file");
      if (format !== "pts.json") return { object: await loadMesh(url, format), note: "" };
      const doc = await fetchJson<PtsDocument>(url);
      const cloud = pointCloud(doc);
      const group = new Group();
      group.add(cloud.object, sceneObjects(doc));
      legend.replaceChildren(
        ...(doc.boxes ?? []).map((b) => el("span", { class: "box-label" }, swatch(`rgb(${b.color.join(",")})`), `${b.label ?? "box"}${b.score !== undefined ? ` ${b.score.toFixed(2)}` : ""} `)),
      );
      const sampled = cloud.drawn < cloud.total;
      const note = sampled
        ? `Showing ${cloud.drawn.toLocaleString("en-US")} of ${cloud.total.toLocaleString("en-US")} points (sampled evenly)`
        : `${cloud.total.toLocaleString("en-US")} points`;
      info.textContent = [...base, note, doc.boxes?.length ? `${doc.boxes.length} boxes` : undefined].filter(Boolean).join(" · ");
      info.dataset.sampled = String(sampled);
      return { object: group, note: sampled ? note : "" };
    };
    build().then(
      ({ object, note }) => {
        if (gen !== generation) return;
        try {
          viewer = new Viewer(object, note);
          slot.replaceWith(viewer.el);
        } catch (err) {
          slot.replaceChildren(el("div", { class: "error" }, `WebGL is not available: ${errorText(err)}`));
        }
      },
      (err: unknown) => slot.replaceChildren(problemBadge(loadProblem(item.files.find((f) => f.role === "object3d")?.path ?? "object", err, false))),
    );
    return [slot, info, legend];
  });
  return {
    ...cell,
    dispose() {
      viewer?.dispose();
    },
  };
}
