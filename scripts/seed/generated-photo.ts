import { PNG } from "pngjs";
import { seededRandom } from "../../packages/engine/test/support/seeded-random";

/**
 * A photo-like PNG drawn from a seed: a sky gradient, a sun and rolling
 * hills in one of several palettes, so the seeded feed looks like a feed and
 * no two pictures are the same.
 */
export function generatePhoto(seed: number, size = 360): Buffer {
  const random = seededRandom(seed);
  const palette = PALETTES[Math.floor(random() * PALETTES.length)]!;
  const png = new PNG({ width: size, height: size });
  const sun = { x: size * (0.2 + random() * 0.6), y: size * (0.15 + random() * 0.3), r: size * (0.06 + random() * 0.08) };
  const hills = Array.from({ length: 3 }, (_, i) => ({
    base: size * (0.55 + i * 0.13),
    amp: size * (0.03 + random() * 0.05),
    freq: 1.5 + random() * 3,
    phase: random() * Math.PI * 2,
    color: palette.hills[i]!,
  }));
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let c = mix(palette.skyTop, palette.skyBottom, y / size);
      const d = Math.hypot(x - sun.x, y - sun.y);
      if (d < sun.r) c = palette.sun;
      else if (d < sun.r * 2.2) c = mix(palette.sun, c, (d - sun.r) / (sun.r * 1.2));
      for (const h of hills) {
        const top = h.base + Math.sin((x / size) * h.freq * Math.PI + h.phase) * h.amp;
        if (y > top) c = mix(h.color, [0, 0, 0], Math.min(0.35, (y - top) / size));
      }
      const i = (y * size + x) * 4;
      png.data[i] = c[0];
      png.data[i + 1] = c[1];
      png.data[i + 2] = c[2];
      png.data[i + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}

type Rgb = [number, number, number];

const PALETTES: { skyTop: Rgb; skyBottom: Rgb; sun: Rgb; hills: Rgb[] }[] = [
  { skyTop: [34, 61, 122], skyBottom: [247, 159, 121], sun: [255, 224, 130], hills: [[87, 117, 144], [61, 90, 110], [40, 62, 81]] },
  { skyTop: [122, 199, 232], skyBottom: [220, 242, 250], sun: [255, 251, 214], hills: [[128, 185, 106], [92, 150, 80], [60, 112, 58]] },
  { skyTop: [45, 20, 70], skyBottom: [236, 96, 96], sun: [255, 196, 84], hills: [[110, 50, 90], [80, 35, 70], [50, 22, 48]] },
  { skyTop: [255, 183, 107], skyBottom: [255, 236, 179], sun: [255, 255, 240], hills: [[196, 140, 92], [160, 108, 70], [120, 80, 54]] },
  { skyTop: [12, 20, 45], skyBottom: [40, 70, 120], sun: [235, 235, 250], hills: [[30, 45, 70], [22, 34, 55], [14, 22, 38]] },
];

function mix(a: Rgb, b: Rgb, t: number): Rgb {
  const k = Math.max(0, Math.min(1, t));
  return [a[0] + (b[0] - a[0]) * k, a[1] + (b[1] - a[1]) * k, a[2] + (b[2] - a[2]) * k].map(Math.round) as Rgb;
}
