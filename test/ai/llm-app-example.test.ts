// The README's LLM-app guide runs as written (examples/llm-app.ts) against the real server.
import { expect, it } from 'vitest';
import { runLlmApp } from '../../examples/llm-app.js';
import { useDatabase } from '../helpers/db.js';

const db = useDatabase();

it('answers 5 questions with 2 LLM calls and one embedder call', async () => {
  const result = await runLlmApp(db.url);
  expect(result.embedderCalls).toBe(1);
  expect(result.llmCalls).toBe(2);
  const llm = result.stats.find((s) => s.cacheType === 'llm_responses');
  expect(llm?.entries).toBe(2);
});

it('a document update removes the answers grounded on it, in its own transaction', async () => {
  const result = await runLlmApp(db.url);
  expect(result.staleAnswerServed).toBe(false);
  expect(result.llmCallsAfterUpdate).toBe(1);
});
