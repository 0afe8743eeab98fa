// Deterministic stand-ins for an embedding model: the same text always gives the same unit vector.
import { createHash } from 'node:crypto';

export function fakeEmbed(text: string, dims: number): number[] {
  const out: number[] = [];
  let block = Buffer.alloc(0);
  for (let i = 0; out.length < dims; i++) {
    if (block.length === 0) block = createHash('sha256').update(`${text}#${i}`).digest();
    out.push(block.readUInt8(0) / 127.5 - 1);
    block = block.subarray(1);
  }
  const norm = Math.hypot(...out) || 1;
  return out.map((x) => x / norm);
}

/** A vector at a small angle from `v`: cosine distance about epsilon^2 / 2. */
export function nudge(v: number[], epsilon: number, seed = 1): number[] {
  const noise = fakeEmbed(`noise-${seed}`, v.length);
  const out = v.map((x, i) => x + epsilon * (noise[i] as number));
  const norm = Math.hypot(...out);
  return out.map((x) => x / norm);
}
