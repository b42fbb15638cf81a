"use node";

import { v } from "convex/values";
import sharp, { type Sharp } from "sharp";
import { rgbaToThumbHash } from "thumbhash";
import { internal } from "./_generated/api";
import { internalAction } from "./_generated/server";
import {
  DISPLAY_MAX_SIDE,
  MAX_IMAGE_PIXELS,
  PLACEHOLDER_SOURCE_SIDE,
  THUMBNAIL_MAX_SIDE,
} from "./lib/limits";

/**
 * Photo processing, in Convex's Node.js runtime (`"use node"`: sharp is a
 * native package; `convex.json` keeps it out of the bundle so Convex installs
 * it, and the engine loads it from node_modules). This module holds actions
 * only, as Convex requires of Node.js modules; what they record goes through
 * `images.ts`.
 *
 * Every file a post keeps is re-encoded from decoded pixels, so none carries
 * the upload's metadata (EXIF with GPS position and camera serial numbers,
 * XMP, IPTC, comments, colour profiles are converted to sRGB) or anything
 * appended after the image data. Orientation is applied to the pixels first,
 * so photos stay upright without their EXIF orientation tag.
 */

// A server sees every photo once: libvips' operation cache would only hold memory.
sharp.cache(false);

/** Decoding refuses damaged files instead of showing half an image. */
const DECODE = { failOn: "error", limitInputPixels: MAX_IMAGE_PIXELS } as const;
/** Variants are WebP: about a third smaller than JPEG at the same quality, shown by every current phone and browser. */
const VARIANT_QUALITY = 80;
/** The full-resolution copy keeps its format where it can, at a quality that hides the re-encoding. */
const ORIGINAL_QUALITY = 90;

type Encoded = { data: Buffer; contentType: string };
type Rendered =
  | {
      ok: true;
      original: Encoded;
      display: Encoded;
      thumbnail: Encoded;
      width: number;
      height: number;
      placeholder: string;
    }
  | { ok: false; message: string };

/**
 * Scheduled by `createPost` (and by `migrations.derivePostImages` for older
 * posts): decodes the post's upload, stores the metadata-free original, the
 * display variant and the thumbnail, and records them with the photo's size
 * and placeholder. A file that is not a decodable image, or is too large,
 * removes the post and tells its author why. Safe to run twice: only the
 * first result is recorded, the other's files are deleted.
 */
export const processPostImage = internalAction({
  args: { postId: v.id("posts") },
  returns: v.null(),
  handler: async (ctx, { postId }) => {
    const job = await ctx.runQuery(internal.images.imageJob, { postId });
    if (job === null) return null;
    const blob = await ctx.storage.get(job.storageId);
    // Gone: the post was deleted while this job waited.
    if (blob === null) return null;
    const rendered = await renderPhoto(Buffer.from(await blob.arrayBuffer()));
    if (!rendered.ok) {
      await ctx.runMutation(internal.images.rejectImage, {
        postId,
        sourceId: job.storageId,
        message: rendered.message,
      });
      return null;
    }
    const store = (file: Encoded) =>
      ctx.storage.store(new Blob([new Uint8Array(file.data)], { type: file.contentType }));
    const original = await store(rendered.original);
    const display = await store(rendered.display);
    const thumbnail = await store(rendered.thumbnail);
    await ctx.runMutation(internal.images.saveProcessedImage, {
      postId,
      sourceId: job.storageId,
      original,
      display,
      thumbnail,
      width: rendered.width,
      height: rendered.height,
      placeholder: rendered.placeholder,
    });
    return null;
  },
});

/** Decodes `input` and makes every file and value a post keeps of it. */
async function renderPhoto(input: Buffer): Promise<Rendered> {
  let format: string | undefined;
  let width: number;
  let height: number;
  try {
    // The header alone: the size is checked before any pixel is decoded.
    const meta = await sharp(input, { ...DECODE, limitInputPixels: false }).metadata();
    format = meta.format;
    width = meta.width ?? 0;
    height = meta.pageHeight ?? meta.height ?? 0;
  } catch {
    return unreadable();
  }
  if (width === 0 || height === 0) return unreadable();
  if (width * height > MAX_IMAGE_PIXELS) {
    return {
      ok: false,
      message:
        `The photo is too large to process: ${width}×${height} pixels, ` +
        `at most ${MAX_IMAGE_PIXELS / 1_000_000} million allowed. Post a smaller version.`,
    };
  }
  try {
    // Each output decodes the input again: libvips then shrinks JPEGs while
    // decoding them, which is far cheaper than resizing one decoded copy.
    const upright = () => sharp(input, DECODE).autoOrient();
    const [original, display, thumbnail, placeholder] = await Promise.all([
      encodeOriginal(upright(), format),
      variant(upright(), DISPLAY_MAX_SIDE),
      variant(upright(), THUMBNAIL_MAX_SIDE),
      thumbHash(upright()),
    ]);
    return {
      ok: true,
      original: original.file,
      display,
      thumbnail,
      width: original.width,
      height: original.height,
      placeholder,
    };
  } catch {
    return unreadable();
  }
}

function unreadable(): Rendered {
  return {
    ok: false,
    message: "This file could not be read as a photo (JPEG, PNG, WebP, GIF, AVIF or TIFF). Upload the image again.",
  };
}

/** The full-resolution copy: PNG and WebP stay so (PNG stays lossless), everything else becomes JPEG. */
async function encodeOriginal(
  image: Sharp,
  format: string | undefined,
): Promise<{ file: Encoded; width: number; height: number }> {
  let output: Sharp;
  let contentType: string;
  if (format === "png") {
    output = image.png();
    contentType = "image/png";
  } else if (format === "webp") {
    output = image.webp({ quality: ORIGINAL_QUALITY });
    contentType = "image/webp";
  } else {
    // JPEG has no transparency: flatten onto white rather than black.
    output = image.flatten({ background: "#ffffff" }).jpeg({ quality: ORIGINAL_QUALITY });
    contentType = "image/jpeg";
  }
  const { data, info } = await output.toBuffer({ resolveWithObject: true });
  return { file: { data, contentType }, width: info.width, height: info.height };
}

/** A WebP whose longest side is `side` (never enlarged). */
async function variant(image: Sharp, side: number): Promise<Encoded> {
  const data = await image
    .resize({ width: side, height: side, fit: "inside", withoutEnlargement: true })
    .webp({ quality: VARIANT_QUALITY })
    .toBuffer();
  return { data, contentType: "image/webp" };
}

/** A ThumbHash (base64) of the photo: what a front end shows before any file arrives. */
async function thumbHash(image: Sharp): Promise<string> {
  const { data, info } = await image
    .resize({ width: PLACEHOLDER_SOURCE_SIDE, height: PLACEHOLDER_SOURCE_SIDE, fit: "inside" })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return Buffer.from(rgbaToThumbHash(info.width, info.height, data)).toString("base64");
}
