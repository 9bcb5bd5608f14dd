// The text format's small helpers, by table.
import { describe, expect, it } from 'vitest';
import { flat } from '../../src/metrics/text-format.js';

describe('flat', () => {
  const name = 'sstp_probe_duration_seconds';
  it.each([
    { what: 'empty', text: '' },
    { what: 'a line start built from parts', text: `\n${name}_bucket{le="0.005",` },
    { what: 'quotes, backslash and newline', text: 'a "q" \\ \n b' },
    { what: 'UTF-8 of 2, 3 and 4 bytes', text: 'zürich € 𝄞' },
    { what: 'a lone surrogate', text: 'x\ud800y' },
    { what: 'a control character', text: 'tab\there\u0000' },
  ])('gives back the same characters: $what', ({ text }) => {
    const out = flat(text);
    expect(out).toBe(text);
    expect(out.length).toBe(text.length);
  });
});
