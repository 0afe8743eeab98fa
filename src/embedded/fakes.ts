// Deterministic stand-ins for the paid services of an LLM app, so the demo needs no network or keys:
// an embedder (hashed bag of words: texts sharing words get close vectors), an LLM and a TTS voice.
import { createHash } from 'node:crypto';

export const EMBEDDING_MODEL = 'fake-embedder-384';
export const EMBEDDING_DIMENSIONS = 384;
export const LLM_MODEL = 'fake-llm-1';
export const TTS_VOICE = 'fake-tts-alloy';
export const TTS_MODEL = 'fake-tts-1';

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function words(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
}

/** A unit vector: each word adds ±1 at two hashed positions, plus a little text-specific noise. */
export function fakeEmbedding(text: string, dimensions = EMBEDDING_DIMENSIONS): number[] {
  const v = new Array<number>(dimensions).fill(0);
  for (const word of words(text)) {
    const h = sha256(word);
    for (let i = 0; i < 2; i++) {
      const index = h.readUInt32BE(i * 4) % dimensions;
      v[index] = (v[index] ?? 0) + ((h[8 + i] ?? 0) & 1 ? 1 : -1);
    }
  }
  const noise = sha256(`noise:${text}`);
  for (let i = 0; i < dimensions; i++) v[i] = (v[i] ?? 0) + ((noise[i % 32] ?? 0) - 127.5) / 2550;
  const norm = Math.hypot(...v);
  return v.map((x) => Math.fround(x / norm));
}

export function cosineDistance(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return 1 - dot / Math.sqrt(na * nb);
}

export interface FakeCompletion {
  text: string;
  /** Prompt tokens (question and context) and answer tokens, as an LLM API reports them. */
  inputTokens: number;
  outputTokens: number;
  tokensUsed: number;
}

/** An "answer" built from the question and the retrieved context; tokens counted as words * 4/3. */
export function fakeLlm(question: string, context: string[]): FakeCompletion {
  const text = `Q: ${question}\nA: ${context.map((c) => c.split('. ')[0]).join('. ')}.`;
  const tokens = (wordCount: number) => Math.ceil((wordCount * 4) / 3);
  const inputTokens = tokens(words(question).length + context.join(' ').split(/\s+/).length);
  const outputTokens = tokens(text.split(/\s+/).length);
  return { text, inputTokens, outputTokens, tokensUsed: inputTokens + outputTokens };
}

export interface FakeSpeech {
  audio: Buffer;
  format: string;
  durationMs: number;
}

/** "Opus" audio of a text: an Ogg page header and pseudo-random bytes, ~48 bytes per character. */
export function fakeSpeech(text: string): FakeSpeech {
  const size = 64 + text.length * 48;
  const chunks: Buffer[] = [Buffer.from('OggS\0\x02', 'latin1')];
  let length = 6;
  for (let i = 0; length < size; i++) {
    const block = sha256(`${TTS_VOICE}:${i}:${text}`);
    chunks.push(block);
    length += block.length;
  }
  return { audio: Buffer.concat(chunks).subarray(0, size), format: 'opus', durationMs: text.length * 55 };
}
