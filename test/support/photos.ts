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

/** A photo of `width`×`height` pixels as stored on disk (not yet rotated by its orientation). */
export async function makePhoto(options: PhotoOptions): Promise<Buffer> {
  const { width, height } = options;
  const pixels = picture(width, height, options.seed ?? 1);
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

/**
 * RGB pixels: two overlapping colour gradients and seeded grain. A pure-noise
 * picture would compress to several times a real photo's size; a flat one
 * to almost nothing.
 */
function picture(width: number, height: number, seed: number): Buffer {
  const pixels = Buffer.alloc(width * height * 3);
  let x32 = (seed * 2654435761) >>> 0 || 1;
  const phase = (seed % 97) / 97;
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      x32 ^= x32 << 13;
      x32 ^= x32 >>> 17;
      x32 ^= x32 << 5;
      const grain = ((x32 >>> 0) % 24) - 12;
      const u = x / width;
      const v = y / height;
      const i = (y * width + x) * 3;
      pixels[i] = clamp(255 * (0.5 + 0.5 * Math.sin(6 * u + phase * 6)) + grain);
      pixels[i + 1] = clamp(255 * v + grain);
      pixels[i + 2] = clamp(255 * (0.5 + 0.5 * Math.cos(4 * (u + v) + phase)) + grain);
    }
  }
  return pixels;
}

function clamp(value: number): number {
  return value < 0 ? 0 : value > 255 ? 255 : Math.round(value);
}
