import { describe, expect, it } from 'vitest';
import { escapeHtml, html, raw, SafeHtml } from '../../../src/api/page/html.js';

describe('escapeHtml', () => {
  it.each([
    ['plain text', 'plain text'],
    ['<img src=x onerror=alert(1)>', '&lt;img src=x onerror=alert(1)&gt;'],
    ['a & b', 'a &amp; b'],
    ['"quoted" \'single\'', '&quot;quoted&quot; &#39;single&#39;'],
    ['&lt; already escaped', '&amp;lt; already escaped'],
    ['</script><script>alert(1)</script>', '&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;'],
    ['" onmouseover="alert(1)', '&quot; onmouseover=&quot;alert(1)'],
    ['ünïcödé ✔ \u0000', 'ünïcödé ✔ \u0000'],
    ['', ''],
  ])('escapes %j', (input, expected) => {
    expect(escapeHtml(input)).toBe(expected);
  });
});

describe('html template', () => {
  const hostile = '<img src=x onerror=alert(1)>';

  it('escapes every interpolated string, in text and in attributes', () => {
    const out = html`<p title="${hostile}">${hostile}</p>`.value;
    expect(out).toBe('<p title="&lt;img src=x onerror=alert(1)&gt;">&lt;img src=x onerror=alert(1)&gt;</p>');
  });

  it('keeps nested html fragments as markup and escapes the values inside them', () => {
    const inner = html`<b>${hostile}</b>`;
    expect(html`<p>${inner}</p>`.value).toBe('<p><b>&lt;img src=x onerror=alert(1)&gt;</b></p>');
  });

  it('joins arrays, escaping strings in them, and renders null, undefined and false as nothing', () => {
    expect(html`<ul>${['<a>', html`<li>${'&'}</li>`, null, undefined, false]}</ul>`.value).toBe('<ul>&lt;a&gt;<li>&amp;</li></ul>');
  });

  it('renders numbers and true as text', () => {
    expect(html`${42} ${1.5} ${true}`.value).toBe('42 1.5 true');
  });

  it('treats a plain object with a value field as text, not markup (only SafeHtml is trusted)', () => {
    const fake = { value: '<script>' } as unknown as SafeHtml;
    expect(html`${fake}`.value).toBe('[object Object]');
    expect(html`${raw('<hr>')}`.value).toBe('<hr>');
  });
});
