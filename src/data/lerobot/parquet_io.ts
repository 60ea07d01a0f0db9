import { readFile } from 'node:fs/promises';
import { parquetMetadata, parquetReadObjects, type FileMetaData, type SchemaElement } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';

// Parquet files as the LeRobot folder needs them: a table of named columns to bytes, and a file
// back to its columns, through hyparquet-writer and hyparquet (pure JavaScript). This file is the
// only one that imports them.
//
// Columns are written the way pyarrow writes what LeRobot writes (datasets/pandas → pyarrow), so
// a reader sees the same Parquet schema (Apache Parquet format, LogicalTypes.md):
//   - float32 → FLOAT, float64 → DOUBLE, int64 → INT64 (no annotation, signed), string → BYTE_ARRAY
//     annotated UTF8/STRING, all OPTIONAL (Arrow fields are nullable);
//   - a list → the three-level LIST: `optional group <name> (LIST) { repeated group list {
//     optional <type> element } }` ("Lists" in LogicalTypes.md; pyarrow's compliant nested types).
// Rows go in row groups of the sizes given (the writer: one per episode, as LeRobot's
// pq.ParquetWriter.write_table per episode does), SNAPPY-compressed like LeRobot's files.

export type ScalarType = 'float32' | 'float64' | 'int64' | 'string';
export type ColumnType = ScalarType | `${ScalarType}[]`;

export interface ColumnToWrite {
  readonly name: string;
  readonly type: ColumnType;
  /** one value per row: numbers (bigint for int64), strings, or arrays of them for a list type */
  readonly values: readonly unknown[];
}

export interface WriteTableOptions {
  /** rows per row group, in order; they must add up to the rows (default one group) */
  readonly rowGroupSizes?: readonly number[];
  /** key-value metadata of the file (e.g. pandas' schema of tasks.parquet) */
  readonly metadata?: Readonly<Record<string, string>>;
}

const PHYSICAL: Record<ScalarType, SchemaElement> = {
  float32: { name: '', type: 'FLOAT' },
  float64: { name: '', type: 'DOUBLE' },
  int64: { name: '', type: 'INT64' },
  string: { name: '', type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } },
};

function schemaOf(columns: readonly ColumnToWrite[]): SchemaElement[] {
  const schema: SchemaElement[] = [{ name: 'schema', num_children: columns.length }];
  for (const { name, type } of columns) {
    const list = type.endsWith('[]');
    const leaf = PHYSICAL[(list ? type.slice(0, -2) : type) as ScalarType];
    if (!list) {
      schema.push({ ...leaf, name, repetition_type: 'OPTIONAL' });
      continue;
    }
    schema.push(
      { name, repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST', logical_type: { type: 'LIST' } },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { ...leaf, name: 'element', repetition_type: 'OPTIONAL' },
    );
  }
  return schema;
}

/** The bytes of a Parquet file holding `columns`. */
export function parquetTable(columns: readonly ColumnToWrite[], options: WriteTableOptions = {}): Uint8Array {
  if (!columns.length) throw new Error('a Parquet table needs at least one column');
  const rows = columns[0]!.values.length;
  for (const c of columns)
    if (c.values.length !== rows)
      throw new Error(`Parquet column ${c.name} has ${c.values.length} rows, ${columns[0]!.name} has ${rows}`);
  const groups = options.rowGroupSizes?.filter((n) => n > 0) ?? [];
  const grouped = groups.reduce((a, b) => a + b, 0);
  if (groups.length && grouped !== rows)
    throw new Error(`row groups of ${grouped} rows in all do not cover the table's ${rows} rows`);
  const kv = Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value }));
  const buffer = parquetWriteBuffer({
    columnData: columns.map((c) => ({ name: c.name, data: c.values as unknown[] })),
    schema: schemaOf(columns),
    codec: 'SNAPPY',
    // one group for an empty table, else the sizes given (the last one repeats: add a huge one)
    rowGroupSize: groups.length ? [...groups, Number.MAX_SAFE_INTEGER] : Math.max(rows, 1),
    // none rather than an empty list: hyparquet-writer 0.17 writes an empty key_value_metadata list
    // with the element type BYTE, which the Thrift decoder of arrow-rs (parquet-wasm) rejects
    // ("Expected list element type of Struct but got Byte")
    kvMetadata: kv.length ? kv : undefined,
    createdBy: 'dynastack (hyparquet-writer)',
  });
  return new Uint8Array(buffer);
}

/** A column's shape in a file: a plain column or a list, and the Parquet type of its values. */
export interface ColumnKind {
  readonly list: boolean;
  /** the leaf's physical type: FLOAT, DOUBLE, INT32, INT64, BOOLEAN, BYTE_ARRAY, ... */
  readonly physical: string;
}

export interface ParquetContents {
  readonly rows: number;
  readonly rowGroups: number;
  /** top-level column name → its kind (nested columns other than lists are absent) */
  readonly kinds: ReadonlyMap<string, ColumnKind>;
  /** column name → one value per row (int64 as bigint, lists as arrays) */
  readonly columns: ReadonlyMap<string, readonly unknown[]>;
  readonly metadata: ReadonlyMap<string, string>;
}

/** Top-level columns of a Parquet schema and their kinds. */
function kindsOf(schema: readonly SchemaElement[]): Map<string, ColumnKind> {
  const kinds = new Map<string, ColumnKind>();
  let i = 1;
  const skip = (at: number): number => {
    let next = at + 1;
    for (let c = 0; c < (schema[at]!.num_children ?? 0); c++) next = skip(next);
    return next;
  };
  const rootChildren = schema[0]?.num_children ?? 0;
  for (let c = 0; c < rootChildren && i < schema.length; c++) {
    const el = schema[i]!;
    if (!el.num_children) kinds.set(el.name, { list: false, physical: el.type ?? '?' });
    else if (el.converted_type === 'LIST' || el.logical_type?.type === 'LIST') {
      // <name> (LIST) > repeated list > element (three levels), or a two-level legacy list
      const inner = schema[i + 1];
      const leaf = inner?.num_children ? schema[i + 2] : inner;
      if (leaf && !leaf.num_children) kinds.set(el.name, { list: true, physical: leaf.type ?? '?' });
    }
    i = skip(i);
  }
  return kinds;
}

/**
 * A Parquet file's columns (all, or those named). Fails with one line naming the file: missing,
 * not Parquet (a truncated file has no footer), or a column that is not there.
 */
export async function readParquet(path: string, names?: readonly string[]): Promise<ParquetContents> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`${path}: ${code === 'ENOENT' ? 'missing' : `cannot be read (${oneLine(e)})`}`, { cause: e });
  }
  // a copy of just this file's bytes (a small Buffer can be a view into node's shared pool)
  const file = new Uint8Array(bytes).buffer;
  let metadata: FileMetaData;
  try {
    metadata = parquetMetadata(file);
  } catch (e) {
    throw new Error(`${path}: not a readable Parquet file (${oneLine(e)})`, { cause: e });
  }
  const kinds = kindsOf(metadata.schema);
  for (const name of names ?? []) if (!kinds.has(name)) throw new Error(`${path}: no column '${name}'`);
  const wanted = names ? [...names] : [...kinds.keys()];
  let rows: Record<string, unknown>[];
  try {
    rows = await parquetReadObjects({ file, metadata, columns: wanted, rowFormat: 'object' });
  } catch (e) {
    throw new Error(`${path}: Parquet data cannot be decoded (${oneLine(e)})`, { cause: e });
  }
  const columns = new Map<string, unknown[]>(wanted.map((n) => [n, new Array<unknown>(rows.length)]));
  for (let r = 0; r < rows.length; r++) for (const n of wanted) columns.get(n)![r] = rows[r]![n];
  const kv = new Map<string, string>();
  for (const { key, value } of metadata.key_value_metadata ?? []) if (value !== undefined) kv.set(key, value);
  return { rows: Number(metadata.num_rows), rowGroups: metadata.row_groups.length, kinds, columns, metadata: kv };
}

function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}
