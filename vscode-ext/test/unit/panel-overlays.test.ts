import assert from "node:assert/strict";
import { test } from "node:test";
import { deflateSync } from "node:zlib";
import { boxAt, isBoxVisible, positionToPixels, sidecarBoxes } from "../../src/webview/boxes";
import { classColor, hashString, PALETTE } from "../../src/webview/colors";
import { classesIn, colorizeMask, decodeClassPng, PngError } from "../../src/webview/masks";
import { newOverlaySettings } from "../../src/webview/state";
import { MessageRouter, RequestError } from "../../src/webview/transport";

test("W&B positions: fractions of the image unless domain is pixel", () => {
  assert.deepEqual(positionToPixels({ minX: 0.5, maxX: 0.75, minY: 0.25, maxY: 0.5 }, false, 64, 48), { x0: 32, x1: 48, y0: 12, y1: 24 });
  assert.deepEqual(positionToPixels({ middle: [16, 12], width: 20, height: 10 }, true, 64, 48), { x0: 6, x1: 26, y0: 7, y1: 17 });
  assert.deepEqual(positionToPixels({ middle: [0.5, 0.5], width: 0.5, height: 0.25 }, false, 100, 40), { x0: 25, x1: 75, y0: 15, y1: 25 });
});

const sidecar = {
  annotations: { cat: [{ box: { top: 8, left: 10, bottom: 30, right: 40 }, score: 0.9 }], dog: [{ box: { top: 20, left: 30, bottom: 40, right: 60 }, score: 0.3 }] },
  boxes: {
    predictions: { box_data: [{ position: { minX: 0.5, maxX: 0.75, minY: 0.25, maxY: 0.5 }, class_id: 1, box_caption: "c", scores: { score: 0.8 } }], class_labels: { "1": "cat" } },
    ground_truth: { box_data: [{ position: { middle: [16, 12] as [number, number], width: 20, height: 10 }, domain: "pixel" as const, class_id: 2 }], class_labels: {} },
  },
};

test("sidecar boxes: DVCLive annotations and W&B groups in pixels", () => {
  const boxes = sidecarBoxes(sidecar, 64, 48);
  assert.equal(boxes.length, 4);
  const cat = boxes.find((b) => b.group === "annotations" && b.label === "cat");
  assert.deepEqual([cat?.x0, cat?.y0, cat?.x1, cat?.y1, cat?.score], [10, 8, 40, 30, 0.9]);
  const gt = boxes.find((b) => b.group === "ground_truth");
  assert.equal(gt?.label, "class 2"); // no label: named by id
  assert.equal(gt?.score, undefined);
  assert.equal(boxes.find((b) => b.group === "predictions")?.label, "cat");
});

test("visibility: groups, classes and the score threshold; hover finds the smallest box", () => {
  const boxes = sidecarBoxes(sidecar, 64, 48);
  const s = newOverlaySettings();
  s.scoreThreshold = 0.5;
  assert.deepEqual(boxes.filter((b) => isBoxVisible(b, s)).map((b) => `${b.group}:${b.label}`), ["annotations:cat", "predictions:cat", "ground_truth:class 2"]);
  s.hiddenClasses.add("cat");
  assert.deepEqual(boxes.filter((b) => isBoxVisible(b, s)).map((b) => b.group), ["ground_truth"]);
  s.hiddenGroups.add("ground_truth");
  assert.equal(boxes.filter((b) => isBoxVisible(b, s)).length, 0);
  const all = newOverlaySettings();
  assert.equal(boxAt(boxes, 35, 15, all)?.group, "predictions"); // inside both cats: the smaller
  assert.equal(boxAt(boxes, 1, 1, all), undefined);
});

test("class colours are stable and from the palette", () => {
  assert.equal(classColor("cat"), classColor("cat"));
  assert.ok(PALETTE.includes(classColor("dog") as (typeof PALETTE)[number]));
  assert.equal(hashString("a"), 0xe40c292c);
});

function png(width: number, height: number, depth: 8 | 16, values: number[], filter = 0): Uint8Array {
  const chunk = (type: string, data: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    return Buffer.concat([len, Buffer.from(type, "latin1"), data, Buffer.alloc(4)]); // CRC unchecked
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = depth;
  const bpp = depth / 8;
  const rows: number[] = [];
  for (let y = 0; y < height; y++) {
    rows.push(filter);
    const raw: number[] = [];
    for (let x = 0; x < width; x++) {
      const v = values[y * width + x] as number;
      if (depth === 8) raw.push(v);
      else raw.push(v >> 8, v & 255);
    }
    // filter 1 (Sub): each byte minus the byte bpp to its left
    rows.push(...raw.map((b, i) => (filter === 1 ? (b - (i >= bpp ? (raw[i - bpp] as number) : 0)) & 255 : b)));
  }
  const sig = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
  return new Uint8Array(Buffer.concat([sig, chunk("IHDR", ihdr), chunk("IDAT", deflateSync(Buffer.from(rows))), chunk("IEND", Buffer.alloc(0))]));
}

test("class-id PNGs decode exactly, 8 and 16 bit, with filters", async () => {
  const m8 = await decodeClassPng(png(3, 2, 8, [0, 1, 2, 3, 4, 5], 1));
  assert.deepEqual([...m8.ids], [0, 1, 2, 3, 4, 5]);
  const m16 = await decodeClassPng(png(2, 2, 16, [0, 300, 65535, 7]));
  assert.deepEqual([...m16.ids], [0, 300, 65535, 7]);
  assert.deepEqual(classesIn(m16), [0, 7, 300, 65535]);
  await assert.rejects(decodeClassPng(new Uint8Array([1, 2, 3])), PngError);
});

test("masks colour each class, leave the background and hidden classes transparent", () => {
  const map = { width: 3, height: 1, ids: new Uint16Array([0, 1, 2]) };
  const rgba = colorizeMask(map, { "1": "cat", "2": "dog" }, new Set([2]));
  assert.deepEqual([...rgba.slice(0, 4)], [0, 0, 0, 0]);
  const hex = classColor("cat", 1); // by class id
  assert.deepEqual([...rgba.slice(4, 8)], [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16), 255]);
  assert.equal(rgba[11], 0);
  const labelled0 = colorizeMask(map, { "0": "road" }, new Set());
  assert.equal(labelled0[3], 255); // class 0 with a real label is drawn
});

test("the message router matches responses to requests and passes notifications on", async () => {
  const sent: { id: number; method: string }[] = [];
  const router = new MessageRouter((m) => sent.push(m as { id: number; method: string }));
  const a = router.request<{ ok: number }>("dvcstage/runs", {});
  const b = router.request("dvcstage/item", { run: "x" });
  router.receive({ kind: "response", id: sent[1]?.id, error: { code: -32001, message: "unknown run" } });
  router.receive({ kind: "response", id: sent[0]?.id, result: { ok: 1 } });
  assert.deepEqual(await a, { ok: 1 });
  await assert.rejects(b, (e: unknown) => e instanceof RequestError && e.code === -32001);
  const seen: string[] = [];
  router.onNotification((method) => seen.push(method));
  router.onCommand((command, args) => seen.push(`${command}:${JSON.stringify(args)}`));
  router.receive({ kind: "notification", method: "dvcstage/changed", params: {} });
  router.receive({ kind: "command", command: "openMedia", args: { key: "k" } });
  router.receive("junk");
  assert.deepEqual(seen, ["dvcstage/changed", 'openMedia:{"key":"k"}']);
  const c = router.request("dvcstage/media", {});
  router.failAll("gone");
  await assert.rejects(c, RequestError);
});
