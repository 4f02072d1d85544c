/**
 * Strict parsing of untrusted JSON text (command-line arguments, JSON lines
 * on stdin, import files).
 *
 * `JSON.parse` silently keeps the last of duplicate keys and rounds integers
 * beyond 2^53; both would change what a receipt says without anyone noticing.
 * {@link parseJsonText} refuses them, naming the path, line and column.
 *
 * @module
 */
import { type ObjectNode, parse, type ValueNode } from '@humanwhocodes/momoa'
import { joinPath } from './canonical.js'
import { InvalidInputError } from './errors.js'

/** Options for {@link parseJsonText}. */
export interface ParseJsonTextOptions {
  /** Path of the root value in messages (e.g. `data`, `stdin line 3`). Default `''`. */
  readonly path?: string
  /** Where the text came from, prefixed to messages (e.g. `--data`, `stdin line 3`). */
  readonly source?: string
}

/** `(--data, column 8)`, `(stdin line 3, column 12)` or `(line 2, column 5)`. */
function at(source: string | undefined, text: string, line: number, column: number): string {
  const parts: string[] = []
  if (source !== undefined) parts.push(source)
  if (line > 1 || text.includes('\n')) parts.push(`line ${line}`)
  parts.push(`column ${column}`)
  return `(${parts.join(', ')})`
}

function toValue(node: ValueNode, path: string, text: string, source: string | undefined): unknown {
  switch (node.type) {
    case 'Object':
      return toObject(node, path, text, source)
    case 'Array':
      return node.elements.map((e, i) => toValue(e.value, joinPath(path, i), text, source))
    case 'String':
    case 'Boolean':
      return node.value
    case 'Null':
      return null
    case 'Number': {
      const raw = text.slice(node.loc.start.offset, node.loc.end.offset)
      if (Math.abs(node.value) > Number.MAX_SAFE_INTEGER || !Number.isFinite(node.value)) {
        throw new InvalidInputError(
          path,
          `${raw} is beyond ±(2^53-1) and would lose precision; pass it as a string ${at(source, text, node.loc.start.line, node.loc.start.column)}`,
        )
      }
      return node.value
    }
    default:
      throw new InvalidInputError(path, `unsupported JSON value ${node.type}`)
  }
}

function toObject(
  node: ObjectNode,
  path: string,
  text: string,
  source: string | undefined,
): object {
  const out: Record<string, unknown> = {}
  const seen = new Set<string>()
  for (const member of node.members) {
    const key = member.name.type === 'String' ? member.name.value : member.name.name
    const keyPath = joinPath(path, key)
    if (seen.has(key)) {
      const { line, column } = member.name.loc.start
      throw new InvalidInputError(keyPath, `duplicate key ${at(source, text, line, column)}`)
    }
    seen.add(key)
    // defineProperty: a "__proto__" key must stay an ordinary own property.
    Object.defineProperty(out, key, {
      value: toValue(member.value, keyPath, text, source),
      enumerable: true,
      writable: true,
      configurable: true,
    })
  }
  return out
}

/**
 * Parses JSON text strictly: standard JSON only, no duplicate keys, no
 * numbers that lose precision.
 *
 * @throws {@link InvalidInputError} naming the path and the line and column,
 *   e.g. `data.a: duplicate key --data (line 1, column 9)`.
 */
export function parseJsonText(text: string, options: ParseJsonTextOptions = {}): unknown {
  const path = options.path ?? ''
  let doc: ReturnType<typeof parse>
  try {
    doc = parse(text, { mode: 'json' })
  } catch (e) {
    const err = e as Error & { line?: number; column?: number }
    const where =
      err.line === undefined
        ? options.source === undefined
          ? ''
          : ` (${options.source})`
        : ` ${at(options.source, text, err.line, err.column ?? 0)}`
    const message = err.message.replace(/\s*\(\d+:\d+\)$/, '')
    throw new InvalidInputError(path, `invalid JSON${where}: ${message}`, { cause: e })
  }
  return toValue(doc.body, path, text, options.source)
}
