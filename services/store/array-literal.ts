/**
 * PostgreSQL array literals (PostgreSQL documentation, "Arrays", "Array Input and Output
 * Syntax") for the ingest's bulk parameters, built with one `join`: pg's generic serializer
 * quotes and escapes element by element, a few percent of the ingest's CPU at thousands of
 * rows per commit. Only for elements that never need quoting: numbers, and timestamps as
 * `Date.toISOString()` writes them (digits, `-`, `+`, `:`, `.`, `T`, `Z`).
 */
export const numberArray = (values: readonly number[]): string => `{${values.join(',')}}`;

export const isoArray = (values: readonly string[]): string => `{${values.join(',')}}`;
