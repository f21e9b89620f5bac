/**
 * Escaping for GitHub-flavoured markdown. Everything that comes from the image or the build (file
 * paths, instructions, command output, notes that embed paths) goes through here, because a file
 * named `x|y` would split a table cell, `</details>` would close a block early, and `@someone`
 * would notify a stranger from the bot's comment.
 *
 * One scheme throughout: inline text is made inert with HTML numeric character references
 * (`|` → `&#124;`), never backslashes, so there is no literal markdown or table syntax character
 * left to misread; monospace values use `<code>` around the same escaped text (GitHub links no
 * mentions or issue references inside `code`). Multi-line text goes in fenced code blocks whose
 * fence is longer than any backtick run inside.
 */

/** Characters with a meaning in markdown, GFM tables, GitHub math or HTML. */
const SPECIAL_CHARS = /[&<>"'|*_`[\]#~\\$!]/g;
/** Line breaks of every kind: a table row or list item must stay one line. */
const LINE_BREAKS = /\r\n|[\r\n\u0085\u2028\u2029]/g;
/** Control characters other than tab and newline, and bidirectional overrides ("Trojan source"). */
const INVISIBLE_CHARS =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u0084\u0086-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
/** Terminal colour and cursor sequences (CSI and OSC), as found in captured command output. */
const ANSI_SEQUENCES =
  // eslint-disable-next-line no-control-regex -- matching the escape character is the point
  /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g;
/** A line that starts like a list item or block quote once inside a bullet (`- 1. x`, `- + x`). */
const BLOCK_START = /^(\s*)([-+=]|\d+[.)])/;

/** The readable names where HTML has them; numeric references for the rest. */
const NAMED_REFERENCES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
};
const ZERO_WIDTH_SPACE = '&#8203;';
const NEWLINE_SYMBOL = '\u2424';
const REPLACEMENT_CHAR = '\ufffd';

/**
 * Makes untrusted text inert inline: safe in a table cell, a list item or a sentence. Markdown and
 * HTML characters become numeric references, line breaks become `␤`, control and bidi characters
 * become `�`, and `@name` / `#123` get a zero-width space so GitHub neither mentions nor links.
 */
export function escapeText(text: string): string {
  return escapeChars(text)
    .replace(/&#64;(?=[A-Za-z0-9])/g, `&#64;${ZERO_WIDTH_SPACE}`)
    .replace(/&#35;(?=[A-Za-z0-9])/g, `&#35;${ZERO_WIDTH_SPACE}`);
}

/** Untrusted text as inline monospace: `<code>` around escaped text. */
export function codeText(text: string): string {
  return `<code>${escapeChars(text)}</code>`;
}

/**
 * Text written by slimpy that embeds untrusted values, such as a note about a path. Spans between
 * backticks render as code and everything else as plain text, so the sentence reads naturally and
 * nothing inside it (including a stray backtick from a file name) can become markup.
 */
export function escapeProse(text: string): string {
  const parts = text.split(/(`[^`]*`)/);
  const escaped = parts
    .map((part) =>
      part.length >= 2 && part.startsWith('`') && part.endsWith('`')
        ? codeText(part.slice(1, -1))
        : escapeText(part),
    )
    .join('');
  // A sentence may start a list item: `-`, `+`, `=` or `1.` there would nest a list or a heading.
  return escaped.replace(
    BLOCK_START,
    (_match, space: string, marker: string) =>
      `${space}${characterReference(marker[0] ?? '')}${marker.slice(1)}`,
  );
}

/**
 * A fenced code block that no content can close: the fence is one backtick longer than the longest
 * backtick run inside (at least three). Content is cleaned with {@link cleanBlockText}.
 */
export function fencedBlock(content: string, language = 'text'): string {
  const text = cleanBlockText(content).replace(/\n+$/, '');
  const longestRun = Math.max(0, ...[...text.matchAll(/`+/g)].map((match) => match[0].length));
  const fence = '`'.repeat(Math.max(3, longestRun + 1));
  return `${fence}${language}\n${text}\n${fence}`;
}

/**
 * Captured output as a terminal would have shown it: colour codes removed, a carriage return
 * overwrites the line so far (progress bars keep their last state), and control or bidi characters
 * become `�`. Tabs and newlines are kept.
 */
export function cleanBlockText(text: string): string {
  return text
    .replace(ANSI_SEQUENCES, '')
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((line) => line.slice(line.lastIndexOf('\r') + 1))
    .join('\n')
    .replace(INVISIBLE_CHARS, REPLACEMENT_CHAR);
}

/**
 * A key safe inside an HTML comment and stable across runs: letters, digits and `._:/-` are kept,
 * anything else becomes `-`, and `--` is collapsed so the key can never close the comment.
 */
export function sanitizeMarkerKey(key: string): string {
  const cleaned = key
    .replace(/[^A-Za-z0-9._:/-]/g, '-')
    .replace(/-{2,}/g, '-')
    .slice(0, 100);
  return cleaned.length > 0 ? cleaned : 'default';
}

function escapeChars(text: string): string {
  const flat = text
    .replace(LINE_BREAKS, NEWLINE_SYMBOL)
    .replace(/\t/g, ' ')
    .replace(INVISIBLE_CHARS, REPLACEMENT_CHAR);
  return flat.replace(SPECIAL_CHARS, characterReference).replace(/@/g, '&#64;');
}

function characterReference(char: string): string {
  return NAMED_REFERENCES[char] ?? `&#${char.charCodeAt(0)};`;
}
