// What hits saved (cache_savings) as text: the table the CLI and the embedded demo print, with totals.
import type { SavingsRow } from '../client/types.js';
import { formatCount, renderTable } from './format.js';

/** Money with its currency; amounts under 1 keep four decimals. */
export function formatMoney(amount: number, currency: string | null): string {
  if (currency === null) return '-';
  return `${amount.toFixed(Math.abs(amount) < 1 && amount !== 0 ? 4 : 2)} ${currency}`;
}

/** Totals of the rows per currency (rows of models without a price count under null). */
export function savingsTotals(rows: SavingsRow[]) {
  const totals = new Map<
    string | null,
    { hits: number; tokens: number; characters: number; seconds: number; cost: number }
  >();
  for (const r of rows) {
    const t = totals.get(r.currency) ?? { hits: 0, tokens: 0, characters: 0, seconds: 0, cost: 0 };
    t.hits += r.hits;
    t.tokens += r.tokens;
    t.characters += r.characters;
    t.seconds += r.computeSeconds;
    t.cost += r.cost;
    totals.set(r.currency, t);
  }
  return [...totals].map(([currency, t]) => ({ currency, ...t }));
}

export function renderSavings(rows: SavingsRow[]): string {
  const table = renderTable(rows, [
    { header: 'day', value: (r) => r.day },
    { header: 'type', value: (r) => r.cacheType },
    { header: 'model', value: (r) => r.model ?? '-' },
    { header: 'tenant', value: (r) => r.tenant ?? '-' },
    { header: 'hits', value: (r) => formatCount(r.hits), align: 'right' },
    { header: 'tokens', value: (r) => formatCount(r.tokens), align: 'right' },
    { header: 'characters', value: (r) => formatCount(r.characters), align: 'right' },
    { header: 'compute', value: (r) => `${r.computeSeconds.toFixed(1)} s`, align: 'right' },
    { header: 'saved', value: (r) => formatMoney(r.cost, r.currency), align: 'right' },
  ]);
  const totals = savingsTotals(rows).map(
    (t) =>
      `total: ${formatCount(t.hits)} hits saved ${formatCount(t.tokens)} tokens, ${formatCount(t.characters)} characters, ` +
      `${t.seconds.toFixed(1)} s of compute${t.currency === null ? ' (models without a price)' : `, ${formatMoney(t.cost, t.currency)}`}`,
  );
  return [table, ...totals].join('\n');
}
