// aedes-persistence-level ships no types: a factory taking a Level database.
declare module 'aedes-persistence-level' {
  import type { AbstractLevel } from 'abstract-level';
  function persistence(db: AbstractLevel<string | Buffer | Uint8Array, string, unknown>): unknown;
  export default persistence;
}
