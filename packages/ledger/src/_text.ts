/**
 * Text helpers shared by the signed-note, checkpoint and key formats.
 *
 * @internal
 * @module
 */

/**
 * Index of the first character a note-style text may not contain (a control
 * character other than `\n`, or a lone surrogate), or -1.
 */
export function findBadCharacter(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x20) {
      if (c !== 0x0a) return i
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const d = s.charCodeAt(i + 1)
      if (c > 0xdbff || !(d >= 0xdc00 && d <= 0xdfff)) return i
      i++
    }
  }
  return -1
}

/** Names the bad character at `at`; `what` is the format (`notes`, `checkpoints`). */
export function describeCharacter(s: string, at: number, what: string): string {
  const c = s.charCodeAt(at)
  const hex = `U+${c.toString(16).toUpperCase().padStart(4, '0')}`
  if (c === 0x0d) return `carriage return (${hex}); ${what} use \\n line endings only`
  if (c < 0x20) return `control character ${hex}`
  return `lone surrogate ${hex} (not valid UTF-8)`
}

/** 1-based line number of the character at `index`. */
export function lineOf(s: string, index: number): number {
  let line = 1
  for (let i = s.indexOf('\n'); i >= 0 && i < index; i = s.indexOf('\n', i + 1)) line++
  return line
}

/** Decodes canonical standard base64 (padded, no stray bits), or undefined. */
export function decodeBase64(text: string): Uint8Array | undefined {
  const bytes = Buffer.from(text, 'base64')
  if (bytes.toString('base64') !== text) return undefined
  return new Uint8Array(bytes)
}

/** Encodes bytes as standard padded base64. */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}
