/**
 * Small, valid image files for uploads: a 2×2 RGB PNG (red and blue pixels)
 * and an 8×8 flat grey baseline JPEG. Built by hand (zlib and the JPEG
 * markers) and checked with `file(1)`.
 */

function fromBase64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "base64"));
}

export const PNG_BYTES = fromBase64(
  "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGP4zwAE/xkgFAAb8gP91pbyKwAAAABJRU5ErkJggg==",
);

export const JPEG_BYTES = fromBase64(
  "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQH/wAALCAAIAAgBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAAAP/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AP//Z",
);

/**
 * A PNG that differs from every other call's (a unique tail after IEND that
 * decoders ignore), so uploads never share bytes or digests.
 */
let serial = 0;
export function uniquePng(): Uint8Array {
  serial += 1;
  const tail = new TextEncoder().encode(`#${serial}`);
  const bytes = new Uint8Array(PNG_BYTES.length + tail.length);
  bytes.set(PNG_BYTES);
  bytes.set(tail, PNG_BYTES.length);
  return bytes;
}
