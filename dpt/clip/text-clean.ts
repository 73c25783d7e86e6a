/**
 * The parts of OpenAI CLIP's `basic_clean` (ftfy.fix_text, then html.unescape twice, then strip) that a tokenizer.json
 * cannot express. tokenizer.json's own normaliser then does NFC, whitespace collapsing and lower-casing.
 *
 * Covered: HTML entities (numeric ones and the common named ones), ftfy's quote uncurling, Latin ligatures and
 * full-width characters. Not covered: ftfy's mojibake repair (text that was decoded with the wrong codec) and the
 * rarer named HTML entities; such input may tokenize differently from OpenAI's reference.
 */
export function basicClean(text: string): string {
  let out = text.normalize('NFC');
  out = out.replace(/[\u02bc\u2018-\u201b]/g, "'").replace(/[\u201c-\u201f]/g, '"');
  out = out.replace(/[\ufb00-\ufb06\u0132\u0133\u013f\u0140\u0149\u01c4-\u01cc\u01f1-\u01f3]/g, (c) =>
    c.normalize('NFKC'),
  );
  out = out.replace(/[\u3000\uff01-\uff5e\uff61-\uffdc\uffe0-\uffee]/g, (c) =>
    c === '\u3000' ? ' ' : c.normalize('NFKC'),
  );
  out = unescapeHtml(unescapeHtml(out));
  return out.trim();
}

const NAMED: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
  copy: '©',
  reg: '®',
  trade: '™',
  hellip: '…',
  mdash: '—',
  ndash: '–',
  laquo: '«',
  raquo: '»',
  deg: '°',
  eacute: 'é',
  egrave: 'è',
  agrave: 'à',
  ccedil: 'ç',
  uuml: 'ü',
  ouml: 'ö',
  auml: 'ä',
  szlig: 'ß',
};

function unescapeHtml(text: string): string {
  return text.replace(/&(#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z]+);/g, (whole, body: string) => {
    if (body.startsWith('#')) {
      const code =
        body[1] === 'x' || body[1] === 'X' ? Number.parseInt(body.slice(2), 16) : Number.parseInt(body.slice(1), 10);
      return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff)
        ? String.fromCodePoint(code)
        : '\ufffd';
    }
    return NAMED[body] ?? whole;
  });
}
