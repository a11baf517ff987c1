/**
 * Damage done to a COPY of a Nix DB (a test fixture, never a DB in use), of the kinds SQLite's integrity checks tell
 * apart: indexes whose entries disagree with their table (made with `PRAGMA writable_schema`, or by editing one
 * index entry's bytes), and an index page overwritten with garbage. Nix keeps using such a DB and answers wrongly.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { DatabaseSync } from 'node:sqlite';

/** The root page number of each index and the page size of the DB at `file`. */
function layoutOf(file: string): { readonly roots: Map<string, number>; readonly pageSize: number } {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    const rows = db.prepare("select name, rootpage from sqlite_master where type = 'index'").all();
    const pageSize = Number(db.prepare('pragma page_size').get()?.['page_size']);
    return { roots: new Map(rows.map((row) => [String(row['name']), Number(row['rootpage'])])), pageSize };
  } finally {
    db.close();
  }
}

/**
 * Swaps the b-trees of Refs' IndexReferrer and IndexReference through `writable_schema`: each index now holds the
 * other's entries. Every page stays well-formed; Nix's referrers query (through IndexReference) finds wrong rows.
 */
export function swapRefsIndexes(file: string): void {
  const { roots } = layoutOf(file);
  const referrer = roots.get('IndexReferrer');
  const reference = roots.get('IndexReference');
  assert.ok(referrer !== undefined && reference !== undefined, 'Nix 2.8 DBs have IndexReferrer and IndexReference');
  // defensive: false lets writable_schema edit sqlite_master; node:sqlite turns SQLite's defensive mode on by default.
  const db = new DatabaseSync(file, { defensive: false } as ConstructorParameters<typeof DatabaseSync>[1]);
  try {
    db.exec('pragma writable_schema = on');
    const update = db.prepare('update sqlite_master set rootpage = ? where name = ?');
    update.run(reference, 'IndexReferrer');
    update.run(referrer, 'IndexReference');
    db.exec('pragma writable_schema = off');
  } finally {
    db.close();
  }
}

/**
 * Flips a bit of the last byte of `storePath` where ValidPaths' unique index on `path` holds it (the fixture's index
 * fits its root page). The table still holds the path; Nix, which finds paths through the index, calls it not valid.
 */
export function breakPathIndexEntry(file: string, storePath: string): void {
  const { roots, pageSize } = layoutOf(file);
  const root = roots.get('sqlite_autoindex_ValidPaths_1');
  assert.ok(root !== undefined, 'ValidPaths has its unique index on path');
  const bytes = fs.readFileSync(file);
  const page = bytes.subarray((root - 1) * pageSize, root * pageSize);
  const at = page.indexOf(Buffer.from(storePath));
  assert.ok(at >= 0, `${storePath} is in the index's root page`);
  page[at + storePath.length - 1]! ^= 1;
  fs.writeFileSync(file, bytes);
}

/** Overwrites the cell pointers and cells' start of `index`'s root page with garbage: a damaged page. */
export function scribbleOverIndexPage(file: string, index: string): void {
  const { roots, pageSize } = layoutOf(file);
  const root = roots.get(index);
  assert.ok(root !== undefined, `${index} exists`);
  const bytes = fs.readFileSync(file);
  // Past the page header (8 bytes for a leaf page), so SQLite still sees an index page, just a damaged one.
  bytes.fill(0x5a, (root - 1) * pageSize + 8, (root - 1) * pageSize + 200);
  fs.writeFileSync(file, bytes);
}
