/**
 * Photo processing benchmark (issue 16): 20 phone photos of 12 MP
 * (4000×3000 JPEG, quality 90, with camera and GPS EXIF; generated here with
 * a fixed seed) posted to the Instagram app on the engine, each processed by
 * `imaging.processPostImage` (decode, metadata-free full-size copy, 1080 px
 * and 320 px WebP variants, ThumbHash).
 *
 * (a) Time per photo from `createPost` until its processing is recorded
 *     (wall and process CPU time, one photo at a time), next to the same
 *     sharp pipeline called directly on the same bytes in this process (the
 *     baseline: what the library alone costs), with the ratio.
 * (b) Bytes a feed of the 20 posts downloads when it shows each post's
 *     `imageUrl` (the full-size copy), `displayUrl` or `thumbnailUrl`,
 *     against the uploaded originals.
 *
 * CPU time is this process's (the engine runs in it; libvips threads count).
 */
import { ConvexHttpClient } from "convex/browser";
import sharp from "sharp";
import { rgbaToThumbHash } from "thumbhash";
import { api, internal } from "../convex/_generated/api";
import type { Id } from "../convex/_generated/dataModel";
import { adminClient } from "../packages/engine/test/support/admin-client";
import { makePhoto } from "../test/support/photos";
import { startAppEngine } from "./support/app-engine";

const POSTS = 20;
const WIDTH = 4000;
const HEIGHT = 3000;

/** 20 distinct 12 MP photos: one generated picture, each re-tinted and re-encoded with phone EXIF. */
async function phonePhotos(): Promise<Buffer[]> {
  const base = await makePhoto({ width: WIDTH, height: HEIGHT, seed: 16, format: "png" });
  const photos: Buffer[] = [];
  for (let i = 0; i < POSTS; i += 1) {
    photos.push(
      await sharp(base)
        .modulate({ hue: i * 17, brightness: 0.9 + (i % 5) * 0.05 })
        .jpeg({ quality: 90 })
        .withExif({ IFD0: { Make: "TestCam", Model: "Phone 15" }, IFD3: { GPSLatitudeRef: "N", GPSLatitude: "48/1 51/1 2403/100" } })
        .toBuffer(),
    );
  }
  return photos;
}

/** The library alone: the same outputs `imaging.ts` makes, on the same bytes. */
async function sharpAlone(input: Buffer): Promise<void> {
  const upright = () => sharp(input, { failOn: "error" }).autoOrient();
  await sharp(input).metadata();
  await Promise.all([
    upright().flatten({ background: "#ffffff" }).jpeg({ quality: 90 }).toBuffer(),
    upright().resize({ width: 1080, height: 1080, fit: "inside", withoutEnlargement: true }).webp({ quality: 80 }).toBuffer(),
    upright().resize({ width: 320, height: 320, fit: "inside", withoutEnlargement: true }).webp({ quality: 80 }).toBuffer(),
    upright()
      .resize({ width: 100, height: 100, fit: "inside" })
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true })
      .then(({ data, info }) => rgbaToThumbHash(info.width, info.height, data)),
  ]);
}

/** Wall and CPU ms of `op`. */
async function measure(op: () => Promise<void>): Promise<{ wall: number; cpu: number }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await op();
  const wall = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { wall, cpu: (used.user + used.system) / 1000 };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const mb = (bytes: number) => (bytes / 1e6).toFixed(2);

async function main(): Promise<void> {
  const photos = await phonePhotos();
  const running = await startAppEngine("bench-photos-");
  const { engine, issuer } = running;
  try {
    await adminClient(engine.cloudUrl, engine.adminKey).mutation(internal.users.createUser, { clerkId: "user_bench", username: "bench" });
    const client = new ConvexHttpClient(engine.cloudUrl, { logger: false });
    client.setAuth(await issuer.mint({ sub: "user_bench" }));
    const drain = async () => {
      const response = await fetch(`${engine.cloudUrl}/api/admin/scheduler/drain`, {
        method: "POST",
        headers: { Authorization: `Convex ${engine.adminKey}`, "Content-Type": "application/json" },
        body: JSON.stringify({ advanceClock: false }),
      });
      if (!response.ok) throw new Error(`drain: ${response.status} ${await response.text()}`);
    };

    // Warm both paths (sharp's first call loads libvips' codecs).
    await sharpAlone(photos[0]!);

    const engineRuns: { wall: number; cpu: number }[] = [];
    const baselineRuns: { wall: number; cpu: number }[] = [];
    const postIds: Id<"posts">[] = [];
    for (const photo of photos) {
      const url = await client.mutation(api.posts.generateUploadUrl, {});
      const response = await fetch(url, { method: "POST", headers: { "Content-Type": "image/jpeg" }, body: photo as unknown as BodyInit });
      const { storageId } = (await response.json()) as { storageId: Id<"_storage"> };
      engineRuns.push(
        await measure(async () => {
          postIds.push(await client.mutation(api.posts.createPost, { storageId }));
          await drain();
        }),
      );
      baselineRuns.push(await measure(() => sharpAlone(photo)));
    }

    const feed = await client.query(api.posts.getFeedPosts, {});
    if (feed.length !== POSTS || feed.some((post) => post.displayUrl === null)) throw new Error("not every photo was processed");
    const sizeOf = async (url: string) => (await (await fetch(url)).arrayBuffer()).byteLength;
    const total = async (pick: (post: (typeof feed)[number]) => string) => {
      let sum = 0;
      for (const post of feed) sum += await sizeOf(pick(post));
      return sum;
    };
    const uploaded = photos.reduce((sum, photo) => sum + photo.length, 0);
    const original = await total((post) => post.imageUrl);
    const display = await total((post) => post.displayUrl!);
    const thumbnail = await total((post) => post.thumbnailUrl!);

    const engineWall = median(engineRuns.map((r) => r.wall));
    const engineCpu = median(engineRuns.map((r) => r.cpu));
    const baseWall = median(baselineRuns.map((r) => r.wall));
    const baseCpu = median(baselineRuns.map((r) => r.cpu));
    console.log(`\n(a) processing one ${WIDTH}×${HEIGHT} (12 MP) JPEG of ${mb(median(photos.map((p) => p.length)))} MB (median of ${POSTS}, one at a time)`);
    console.table([
      { path: "createPost → processed (engine, app action)", "wall ms": engineWall.toFixed(0), "CPU ms": engineCpu.toFixed(0) },
      { path: "baseline: the same sharp calls in process", "wall ms": baseWall.toFixed(0), "CPU ms": baseCpu.toFixed(0) },
      { path: "ratio engine / baseline", "wall ms": (engineWall / baseWall).toFixed(2), "CPU ms": (engineCpu / baseCpu).toFixed(2) },
    ]);
    console.log(`\n(b) bytes a feed of ${POSTS} posts downloads (MB = 10^6 bytes)`);
    console.table([
      { feed: "the uploads as the phone made them", MB: mb(uploaded), "vs uploads": "1.00" },
      { feed: "imageUrl (full size, metadata-free)", MB: mb(original), "vs uploads": (original / uploaded).toFixed(2) },
      { feed: "displayUrl (1080 px WebP)", MB: mb(display), "vs uploads": (display / uploaded).toFixed(3) },
      { feed: "thumbnailUrl (320 px WebP)", MB: mb(thumbnail), "vs uploads": (thumbnail / uploaded).toFixed(4) },
    ]);
    console.log(`saved by displayUrl: ${mb(uploaded - display)} MB (${((1 - display / uploaded) * 100).toFixed(1)}%)`);
  } finally {
    await running.close();
  }
}

await main();
