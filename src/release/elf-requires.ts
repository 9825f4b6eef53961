import { open } from 'node:fs/promises';

// What a Linux binary needs of the machine it runs on, read from its ELF
// version-needs section (.gnu.version_r): for each shared library, the symbol
// versions it binds to (libc.so.6 → GLIBC_2.28, libstdc++.so.6 → GLIBCXX_3.4.21…).
// The highest per prefix is the floor a far-side machine must meet — the glibc
// of the bundled node, and of better-sqlite3's .node, which was compiled here.
// Only the headers and that one section are read, never the whole binary.

const SHT_GNU_VERNEED = 0x6ffffffe;
// node exports the V8 API: its .dynstr is several MiB.
const MAX_SECTION = 64 << 20;

/** True when the file starts with the ELF magic. */
export function isElf(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46;
}

/** Compares `2.28` and `2.34` (or `3.4.21`) part by part, as numbers. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Adds `GLIBC_2.34`-style names to `floor`, keeping the highest version per prefix. */
export function raiseFloor(floor: Record<string, string>, names: Iterable<string>): Record<string, string> {
  for (const name of names) {
    const m = /^([A-Z][A-Z0-9]*)_(\d+(?:\.\d+)*)$/.exec(name);
    if (!m) continue;
    const [, prefix, version] = m as unknown as [string, string, string];
    const have = floor[prefix];
    if (have === undefined || compareVersions(version, have) > 0) floor[prefix] = version;
  }
  return floor;
}

/** The symbol versions an ELF file needs (`GLIBC_2.28`, …), or undefined for a file that is not ELF. */
export async function elfVersionNeeds(path: string): Promise<string[] | undefined> {
  const file = await open(path, 'r');
  try {
    const read = async (at: number, length: number): Promise<Buffer> => {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await file.read(buf, 0, length, at);
      if (bytesRead !== length) throw new Error(`${path}: ELF file is truncated`);
      return buf;
    };
    const ident = await read(0, 64).catch(() => Buffer.alloc(0));
    if (!isElf(ident)) return undefined;
    const is64 = ident[4] === 2;
    const little = ident[5] === 1;
    const u16 = (b: Buffer, at: number) => (little ? b.readUInt16LE(at) : b.readUInt16BE(at));
    const u32 = (b: Buffer, at: number) => (little ? b.readUInt32LE(at) : b.readUInt32BE(at));
    const word = (b: Buffer, at: number) => (is64 ? Number(little ? b.readBigUInt64LE(at) : b.readBigUInt64BE(at)) : u32(b, at));
    const shoff = word(ident, is64 ? 0x28 : 0x20);
    const shentsize = u16(ident, is64 ? 0x3a : 0x2e);
    const shnum = u16(ident, is64 ? 0x3c : 0x30);
    if (shoff === 0 || shnum === 0) return [];
    const table = await read(shoff, shentsize * shnum);
    const section = (i: number) => {
      const at = i * shentsize;
      return {
        type: u32(table, at + 4),
        offset: word(table, at + (is64 ? 0x18 : 0x10)),
        size: word(table, at + (is64 ? 0x20 : 0x14)),
        link: u32(table, at + (is64 ? 0x28 : 0x18)),
        info: u32(table, at + (is64 ? 0x2c : 0x1c)),
      };
    };
    const names: string[] = [];
    for (let i = 0; i < shnum; i++) {
      const need = section(i);
      if (need.type !== SHT_GNU_VERNEED) continue;
      const strtab = section(need.link);
      if (need.size > MAX_SECTION || strtab.size > MAX_SECTION) throw new Error(`${path}: ELF version section is implausibly large`);
      const body = await read(need.offset, need.size);
      const strings = await read(strtab.offset, strtab.size);
      const text = (at: number) => strings.toString('latin1', at, strings.indexOf(0, at));
      // Elf_Verneed {version, cnt, file, aux, next} → Elf_Vernaux {hash, flags, other, name, next}
      for (let at = 0, left = need.info; left > 0; left--) {
        for (let aux = at + u32(body, at + 8), n = u16(body, at + 2); n > 0; n--) {
          names.push(text(u32(body, aux + 8)));
          const next = u32(body, aux + 12);
          if (next === 0) break;
          aux += next;
        }
        const next = u32(body, at + 12);
        if (next === 0) break;
        at += next;
      }
    }
    return [...new Set(names)].sort();
  } finally {
    await file.close();
  }
}
