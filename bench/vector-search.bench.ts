/**
 * Benchmark: `ctx.vectorSearch` at 1,536 dimensions (OpenAI embedding size) over 10k and
 * 100k vectors — the engine's vector index (sqlite-vec through `store.vectorSearch`, the
 * code an action's search runs) against brute force in JavaScript over the same vectors
 * packed as float32 blobs in a plain SQLite table (the alternative implementation), and
 * over packed floats kept in memory (what a cache of them would give). Top-10 queries,
 * unfiltered and filtered to half the rows; fixed seed; wall and CPU time per query.
 * Not part of the test suite: `npm run bench -- vector-search` (sizes: VECTOR_BENCH_SIZES=10000,100000).
 */
import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSqliteStore } from "../packages/engine/src/store/sqlite-store";
import { createSeededRandom } from "../packages/engine/test/helpers/seeded-random";

const DIMENSIONS = 1536;
const K = 10;
const SIZES = (process.env.VECTOR_BENCH_SIZES ?? "10000,100000").split(",").map(Number);
const MIN_QUERIES = 5;
const MIN_MS = 3000;

interface Variant {
  name: string;
  run: (query: Float32Array, tag: string | null) => string[];
}

const rows: Record<string, string>[] = [];

function measure(size: number): void {
  const dir = mkdtempSync(join(tmpdir(), "vector-bench-"));
  const random = createSeededRandom(1536 + size);
  let clock = Date.UTC(2026, 0, 1);
  const store = createSqliteStore({ path: join(dir, "engine.sqlite3"), now: () => clock++, randomBytes: random.bytes, synchronous: "OFF" });
  store.applySchema({
    tables: [
      {
        tableName: "items",
        indexes: [],
        vectorIndexes: [{ indexDescriptor: "by_embedding", vectorField: "embedding", dimensions: DIMENSIONS, filterFields: ["tag"] }],
      },
    ],
    schemaValidation: false,
  });
  const raw = new Database(join(dir, "raw.sqlite3"));
  raw.pragma("journal_mode = WAL");
  raw.pragma("synchronous = OFF");
  raw.exec("CREATE TABLE vectors (id TEXT PRIMARY KEY, tag TEXT NOT NULL, vec BLOB NOT NULL)");
  const insertRaw = raw.prepare("INSERT INTO vectors (id, tag, vec) VALUES (?, ?, ?)");
  const memory = new Float32Array(size * DIMENSIONS);
  const memoryIds: string[] = [];
  const memoryTags: string[] = [];

  const loadStart = performance.now();
  const BATCH = 1000;
  for (let start = 0; start < size; start += BATCH) {
    store.begin();
    raw.exec("BEGIN");
    for (let i = start; i < Math.min(size, start + BATCH); i++) {
      // Three decimals, like a rounded embedding: keeps the documents' JSON (and this setup) small.
      const embedding = Array.from({ length: DIMENSIONS }, () => Math.round((random.next() * 2 - 1) * 1000) / 1000);
      const tag = i % 2 === 0 ? "even" : "odd";
      const id = store.insert("items", { tag, embedding });
      const unit = normalized(embedding);
      memory.set(unit, i * DIMENSIONS);
      memoryIds.push(id);
      memoryTags.push(tag);
      insertRaw.run(id, tag, Buffer.from(unit.buffer));
    }
    store.commit();
    raw.exec("COMMIT");
  }
  const loadSeconds = (performance.now() - loadStart) / 1000;

  const scanRaw = raw.prepare("SELECT id, vec FROM vectors").raw();
  const scanRawTag = raw.prepare("SELECT id, vec FROM vectors WHERE tag = ?").raw();
  const variants: Variant[] = [
    {
      name: "brute force: JS over float32 blobs in SQLite (baseline)",
      run(query, tag) {
        const top = new TopK(K);
        const rowsOf = tag === null ? scanRaw.iterate() : scanRawTag.iterate(tag);
        for (const [id, blob] of rowsOf as Iterable<[string, Buffer]>) {
          top.offer(dot(query, new Float32Array(blob.buffer, blob.byteOffset, DIMENSIONS), 0), id);
        }
        return top.ids();
      },
    },
    {
      name: "brute force: JS over float32 arrays in memory",
      run(query, tag) {
        const top = new TopK(K);
        for (let i = 0; i < size; i++) {
          if (tag === null || memoryTags[i] === tag) top.offer(dot(query, memory, i * DIMENSIONS), memoryIds[i]);
        }
        return top.ids();
      },
    },
    {
      name: "engine: store.vectorSearch (sqlite-vec)",
      run(query, tag) {
        const filters = tag === null ? [] : [{ field: "tag", value: tag }];
        return store.vectorSearch("items.by_embedding", { vector: Array.from(query), limit: K, filters }).map((m) => m.id);
      },
    },
  ];

  for (const tag of [null, "even"] as const) {
    const probe = normalized(Array.from({ length: DIMENSIONS }, () => random.next() * 2 - 1));
    const answers = variants.map((v) => v.run(probe, tag).join(","));
    if (new Set(answers).size !== 1) throw new Error(`the variants disagree on the top ${K}:\n${answers.join("\n")}`);
    const timings = timeInterleaved(variants, tag, random);
    const baseline = timings[0].wallMs;
    variants.forEach((variant, i) => {
      rows.push({
        vectors: size.toLocaleString("en"),
        filter: tag === null ? "none" : "tag = even (half)",
        variant: variant.name,
        "queries/s": (1000 / timings[i].wallMs).toFixed(1),
        "wall ms/query": timings[i].wallMs.toFixed(1),
        "CPU ms/query": timings[i].cpuMs.toFixed(1),
        "speed vs baseline": `${(baseline / timings[i].wallMs).toFixed(2)}x`,
      });
    });
  }
  console.log(`${size.toLocaleString("en")} vectors of ${DIMENSIONS} dimensions loaded in ${loadSeconds.toFixed(1)} s (engine store + baseline table)`);
  store.close();
  raw.close();
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Median wall and CPU time per query, each variant run in turn on the same queries so that
 * load on the shared machine hits them alike.
 */
function timeInterleaved(variants: Variant[], tag: string | null, random: { next(): number }): { wallMs: number; cpuMs: number }[] {
  const samples = variants.map((): { wallMs: number; cpuMs: number }[] => []);
  const started = performance.now();
  while (samples[0].length < MIN_QUERIES || performance.now() - started < MIN_MS * variants.length) {
    const query = normalized(Array.from({ length: DIMENSIONS }, () => random.next() * 2 - 1));
    variants.forEach((variant, i) => {
      const cpu = process.cpuUsage();
      const wall = performance.now();
      variant.run(query, tag);
      const used = process.cpuUsage(cpu);
      samples[i].push({ wallMs: performance.now() - wall, cpuMs: (used.user + used.system) / 1000 });
    });
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return samples.map((list) => ({ wallMs: median(list.map((s) => s.wallMs)), cpuMs: median(list.map((s) => s.cpuMs)) }));
}

function normalized(values: readonly number[]): Float32Array {
  let norm = 0;
  for (const x of values) norm += x * x;
  norm = Math.sqrt(norm);
  return Float32Array.from(values, (x) => x / norm);
}

/** Dot product of `query` with the vector at `offset` in `data` (both unit length: the cosine). */
function dot(query: Float32Array, data: Float32Array, offset: number): number {
  let a = 0;
  let b = 0;
  let c = 0;
  let d = 0;
  for (let j = 0; j < DIMENSIONS; j += 4) {
    a += query[j] * data[offset + j];
    b += query[j + 1] * data[offset + j + 1];
    c += query[j + 2] * data[offset + j + 2];
    d += query[j + 3] * data[offset + j + 3];
  }
  return a + b + c + d;
}

/** The k best (score, id) pairs seen, best first, ties by the larger id like Convex. */
class TopK {
  private readonly best: { score: number; id: string }[] = [];
  constructor(private readonly k: number) {}
  offer(score: number, id: string): void {
    const worst = this.best[this.best.length - 1];
    if (this.best.length === this.k && (score < worst.score || (score === worst.score && id < worst.id))) return;
    this.best.push({ score, id });
    this.best.sort((x, y) => y.score - x.score || (x.id < y.id ? 1 : -1));
    if (this.best.length > this.k) this.best.pop();
  }
  ids(): string[] {
    return this.best.map((b) => b.id);
  }
}

// Last, so that every class and function above is defined before it runs.
for (const size of SIZES) measure(size);
console.table(rows);
