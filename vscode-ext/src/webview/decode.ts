// Image bytes to a drawable bitmap, off the main thread and without a Blob where the browser
// allows it. A Blob costs Chromium a round trip to its browser process to register the bytes
// (about 0.4 ms of the page's main thread per picture, more than decoding a small one), so the
// bytes go to WebCodecs' ImageDecoder, which decodes them in the page's own process on a worker
// thread; the type it needs is read from the bytes (their magic number), as the browser sniffs
// it for an <img>. A type ImageDecoder does not take, or a browser without it (a page that is
// not a secure context), gets createImageBitmap of a Blob, as before.

/** A decoded image and its size. */
export interface DecodedImage {
  image: ImageBitmap | HTMLImageElement;
  width: number;
  height: number;
}

/** How each image was decoded (read by tests and measurements). */
export const decodeCounts = { decoder: 0, blob: 0, element: 0 };

/** The image type that `bytes` start with, or undefined when they match none of these. */
export function sniffImageType(bytes: Uint8Array): string | undefined {
  const at = (i: number, ...want: number[]): boolean => want.every((b, j) => bytes[i + j] === b);
  if (at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return "image/png";
  if (at(0, 0xff, 0xd8, 0xff)) return "image/jpeg";
  if (at(0, 0x47, 0x49, 0x46, 0x38)) return "image/gif";
  if (at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return "image/webp";
  if (at(0, 0x42, 0x4d)) return "image/bmp";
  if (at(4, 0x66, 0x74, 0x79, 0x70, 0x61, 0x76, 0x69, 0x66)) return "image/avif";
  return undefined;
}

/** Bytes sent base64. */
export function base64Bytes(data: string): Uint8Array<ArrayBuffer> {
  const text = atob(data);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

const supported = new Map<string, Promise<boolean>>();

/** Whether ImageDecoder decodes `type` here (asked once per type). */
function decoderTakes(type: string | undefined): Promise<boolean> {
  if (type === undefined || typeof ImageDecoder !== "function") return Promise.resolve(false);
  let known = supported.get(type);
  if (!known) {
    known = ImageDecoder.isTypeSupported(type).catch(() => false);
    supported.set(type, known);
  }
  return known;
}

/** `bytes` decoded (their first frame); an Error if they are not an image the browser reads. */
export async function decodeImage(bytes: Uint8Array<ArrayBuffer>): Promise<DecodedImage> {
  const type = sniffImageType(bytes);
  if (type !== undefined && (await decoderTakes(type))) {
    const decoder = new ImageDecoder({ data: bytes, type, colorSpaceConversion: "default" });
    try {
      const { image: frame } = await decoder.decode();
      try {
        const image = await createImageBitmap(frame);
        decodeCounts.decoder++;
        return { image, width: image.width, height: image.height };
      } finally {
        frame.close();
      }
    } finally {
      decoder.close();
    }
  }
  const blob = new Blob([bytes]);
  if (typeof createImageBitmap === "function") {
    const image = await createImageBitmap(blob);
    decodeCounts.blob++;
    return { image, width: image.width, height: image.height };
  }
  const image = new Image();
  const objectUrl = URL.createObjectURL(blob);
  try {
    image.src = objectUrl;
    await image.decode();
  } finally {
    URL.revokeObjectURL(objectUrl);
  }
  decodeCounts.element++;
  return { image, width: image.naturalWidth, height: image.naturalHeight };
}
