import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  assertExportKey,
  compareExportKeys,
  createDirectoryTarget,
  createMemoryTarget,
  DIRECTORY_TARGET_TMP,
  type ExportTarget,
  isBatonError,
} from '../src/index.js'
import { describeExportTarget } from '../src/testing/index.js'

const dirs = new Map<ExportTarget, string>()

describeExportTarget('memory', { create: async () => createMemoryTarget() })

describeExportTarget('directory', {
  create: async () => {
    const dir = await mkdtemp(join(tmpdir(), 'baton-target-'))
    const target = createDirectoryTarget(join(dir, 'exports'))
    dirs.set(target, dir)
    return target
  },
  dispose: async (target) => {
    await rm(dirs.get(target)!, { recursive: true, force: true })
    dirs.delete(target)
  },
})

describe('directory target specifics', () => {
  let dir: string
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('lays keys out as files, leaves no temporary files, and never lists its temp dir', async () => {
    dir = await mkdtemp(join(tmpdir(), 'baton-target-'))
    const t = createDirectoryTarget(dir)
    expect(t.location).toBe(`file:${dir}`)
    await t.put('manifest/00000000000000000000.json', Buffer.from('{}'))
    expect(await readdir(join(dir, 'manifest'))).toEqual(['00000000000000000000.json'])
    expect(await readdir(join(dir, DIRECTORY_TARGET_TMP))).toEqual([])
    await writeFile(join(dir, DIRECTORY_TARGET_TMP, 'stray.tmp'), 'x')
    const keys: string[] = []
    for await (const k of t.list('')) keys.push(k)
    expect(keys).toEqual(['manifest/00000000000000000000.json'])
    const e = await t.put(`${DIRECTORY_TARGET_TMP}/x`, Buffer.from('x')).catch((x: unknown) => x)
    expect(isBatonError(e, 'INVALID_INPUT')).toBe(true)
  })

  it('refuses a key below an object, and an object over a directory of keys', async () => {
    dir = await mkdtemp(join(tmpdir(), 'baton-target-'))
    const t = createDirectoryTarget(dir)
    await t.put('a', Buffer.from('1'))
    const below = await t.put('a/b', Buffer.from('2')).catch((x: unknown) => x)
    expect(isBatonError(below, 'INVALID_INPUT')).toBe(true)
    await t.put('c/d', Buffer.from('3'))
    const over = await t.put('c', Buffer.from('4')).catch((x: unknown) => x)
    expect(isBatonError(over, 'INVALID_INPUT')).toBe(true)
    expect(await t.head('c')).toBeUndefined()
    await t.delete('c') // a directory is not an object: nothing to delete
    expect(await t.head('c/d')).toEqual({ size: 1 })
  })

  it('reads a missing directory as empty and creates it on the first put', async () => {
    dir = await mkdtemp(join(tmpdir(), 'baton-target-'))
    const t = createDirectoryTarget(join(dir, 'not', 'yet'))
    for await (const _ of t.list('')) throw new Error('listed something')
    expect(await t.head('x')).toBeUndefined()
    await t.put('x', Buffer.from('y'))
    expect(await t.head('x')).toEqual({ size: 1 })
  })

  it('ignores files that are not valid keys', async () => {
    dir = await mkdtemp(join(tmpdir(), 'baton-target-'))
    await mkdir(join(dir, 'm'), { recursive: true })
    await writeFile(join(dir, 'm', 'a\\b'), 'x')
    await writeFile(join(dir, 'm', 'ok'), 'x')
    const keys: string[] = []
    for await (const k of createDirectoryTarget(dir).list('m/')) keys.push(k)
    expect(keys).toEqual(['m/ok'])
  })

  it('refuses a bad directory argument', () => {
    expect(() => createDirectoryTarget('')).toThrow(/dir: must be a non-empty path/)
  })
})

describe('export keys', () => {
  it('accepts relative paths and names the bad key otherwise', () => {
    assertExportKey('manifest/00000000000000000000.json')
    assertExportKey('a/.hidden/b c')
    expect(() => assertExportKey('a//b')).toThrow(/^key: "a\/\/b" has an empty path segment/)
    expect(() => assertExportKey('x'.repeat(2000))).toThrow(/longer than 1024 bytes/)
    expect(() => assertExportKey(7)).toThrow(/must be a string/)
  })

  it('orders by UTF-8 bytes', () => {
    expect(['b', 'é', 'a/', 'a-', 'Z'].sort(compareExportKeys)).toEqual(['Z', 'a-', 'a/', 'b', 'é'])
  })

  it('memory target: refuses bad options and non-byte chunks', async () => {
    expect(() => createMemoryTarget({ chunkBytes: 0 })).toThrow(/chunkBytes/)
    const t = createMemoryTarget({ name: 'drill' })
    expect(t.location).toBe('memory:drill')
    const e = await t.put('k', ['nope' as unknown as Uint8Array]).catch((x: unknown) => x)
    expect(isBatonError(e, 'INVALID_INPUT')).toBe(true)
    expect(t.objects.size).toBe(0)
  })
})
