import exifReader from "exif-reader";
import sharp from "sharp";

/**
 * Photos the way phones make them, generated with sharp: real JPEG/PNG data
 * of a given size with a picture in it (smooth colour fields plus grain, so
 * they compress like photos, not like flat colour), optionally carrying the
 * EXIF a phone writes: camera make and model, a GPS position and an
 * orientation tag.
 */

/** Where the test photos claim to have been taken (Paris, 48°51'24.03"N 2°17'40"E). */
export const TEST_GPS = { latitude: [48, 51, 24.03], longitude: [2, 17, 40] };

export type PhotoOptions = {
  width: number;
  height: number;
  /** Seed of the picture, so two photos differ and each is the same every run. */
  seed?: number;
  format?: "jpeg" | "png" | "webp";
  /** Adds camera, GPS and (when given) orientation EXIF, as a phone does. */
  exif?: { orientation?: number };
  /** JPEG/WebP quality (default 85). */
  quality?: number;
};

/** Made photos by their options: the suites ask for the same ones on each backend. */
const made = new Map<string, Promise<Buffer>>();

/** A photo of `width`×`height` pixels as stored on disk (not yet rotated by its orientation). */
export function makePhoto(options: PhotoOptions): Promise<Buffer> {
  const key = JSON.stringify(options);
  let photo = made.get(key);
  if (photo === undefined) {
    photo = encodePhoto(options);
    made.set(key, photo);
  }
  return photo;
}

async function encodePhoto(options: PhotoOptions): Promise<Buffer> {
  const { width, height } = options;
  const pixels = pictureOf(width, height, options.seed ?? 1);
  let image = sharp(pixels, { raw: { width, height, channels: 3 } });
  const quality = options.quality ?? 85;
  if (options.format === "png") image = image.png();
  else if (options.format === "webp") image = image.webp({ quality });
  else image = image.jpeg({ quality });
  if (options.exif !== undefined) {
    image = image.withExif({
      IFD0: { Make: "TestCam", Model: "Phone 15", Software: "test-photos" },
      IFD3: {
        GPSLatitudeRef: "N",
        GPSLatitude: "48/1 51/1 2403/100",
        GPSLongitudeRef: "E",
        GPSLongitude: "2/1 17/1 40/1",
      },
    });
    if (options.exif.orientation !== undefined) image = image.withMetadata({ orientation: options.exif.orientation });
  }
  return await image.toBuffer();
}

/** What a file carries besides pixels, as far as a leak is concerned. */
export type FileMetadata = {
  format: string | undefined;
  width: number;
  height: number;
  /** Parsed EXIF, or null when there is none. */
  exif: ReturnType<typeof exifReader> | null;
  hasXmp: boolean;
  hasIptc: boolean;
  hasIcc: boolean;
  orientation: number | undefined;
};

/** Reads a file's format, size and metadata blocks. */
export async function fileMetadata(bytes: Uint8Array): Promise<FileMetadata> {
  const meta = await sharp(bytes).metadata();
  return {
    format: meta.format,
    width: meta.width ?? 0,
    height: meta.height ?? 0,
    exif: meta.exif === undefined ? null : exifReader(meta.exif),
    hasXmp: meta.xmp !== undefined,
    hasIptc: meta.iptc !== undefined,
    hasIcc: meta.icc !== undefined,
    orientation: meta.orientation,
  };
}

/** Pictures by size and seed: photos that differ only in format or EXIF share theirs. */
const pictures = new Map<string, Buffer>();

function pictureOf(width: number, height: number, seed: number): Buffer {
  const key = `${width}x${height}#${seed}`;
  let pixels = pictures.get(key);
  if (pixels === undefined) {
    pixels = picture(width, height, seed);
    pictures.set(key, pixels);
  }
  return pixels;
}

/**
 * RGB pixels: colour gradients, texture at several scales (smooth value
 * noise, as in foliage or fabric) and fine grain. A pure-noise picture would
 * compress to several times a real photo's size, a smooth one to almost
 * nothing, and one without mid-sized detail would shrink unrealistically
 * well when scaled down.
 */
function picture(width: number, height: number, seed: number): Buffer {
  const pixels = Buffer.alloc(width * height * 3);
  const phase = (seed % 97) / 97;
  const octaves = [
    { cell: 6, weight: 28 },
    { cell: 24, weight: 40 },
    { cell: 96, weight: 50 },
  ];
  let grain = (seed * 2654435761) >>> 0 || 1;
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      let texture = 0;
      for (const { cell, weight } of octaves) texture += weight * (valueNoise(x / cell, y / cell, seed + cell) - 0.5);
      grain ^= grain << 13;
      grain ^= grain >>> 17;
      grain ^= grain << 5;
      const fine = ((grain >>> 0) % 16) - 8;
      const u = x / width;
      const v = y / height;
      const i = (y * width + x) * 3;
      pixels[i] = clamp(255 * (0.5 + 0.4 * Math.sin(6 * u + phase * 6)) + texture + fine);
      pixels[i + 1] = clamp(40 + 175 * v + texture * 0.8 + fine);
      pixels[i + 2] = clamp(255 * (0.5 + 0.4 * Math.cos(4 * (u + v) + phase)) - texture * 0.6 + fine);
    }
  }
  return pixels;
}

/** Smooth noise in [0, 1): random values on an integer grid, interpolated (smoothstep). */
function valueNoise(x: number, y: number, seed: number): number {
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const fx = x - x0;
  const fy = y - y0;
  const sx = fx * fx * (3 - 2 * fx);
  const sy = fy * fy * (3 - 2 * fy);
  const top = lerp(lattice(x0, y0, seed), lattice(x0 + 1, y0, seed), sx);
  const bottom = lerp(lattice(x0, y0 + 1, seed), lattice(x0 + 1, y0 + 1, seed), sx);
  return lerp(top, bottom, sy);
}

/** A fixed pseudo-random value in [0, 1) for a grid point. */
function lattice(x: number, y: number, seed: number): number {
  let h = Math.imul(x, 374761393) ^ Math.imul(y, 668265263) ^ Math.imul(seed, 2246822519);
  h = Math.imul(h ^ (h >>> 13), 1274126177);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

function lerp(a: number, b: number, t: number): number {
  return a + (b - a) * t;
}

function clamp(value: number): number {
  return value < 0 ? 0 : value > 255 ? 255 : Math.round(value);
}
