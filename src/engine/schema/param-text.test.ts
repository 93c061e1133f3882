import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { paramRows, paramsJsonSchema } from '../catalog.js';
import { rangeOf, rangeText, typeText } from './param-text.js';

/** The type text of one param, through the JSON Schema every reader sees. */
const textOf = (param: z.ZodType) => paramRows(paramsJsonSchema(z.object({ p: param })))[0]!.type;

describe('param text', () => {
  it('says inclusive and exclusive bounds, and hides the integer-safety bounds zod adds', () => {
    expect(textOf(z.number().int().min(1).max(256))).toBe('int (≥ 1, ≤ 256)');
    expect(textOf(z.number().positive())).toBe('number (> 0)');
    expect(textOf(z.number().gt(0).lt(1))).toBe('number (> 0, < 1)');
    expect(textOf(z.number().int())).toBe('int');
    expect(textOf(z.number().int().positive().default(4))).toBe('int (> 0)');
  });

  it('says enums, unions, arrays and nested objects', () => {
    expect(textOf(z.enum(['a', 'b']))).toBe('"a" | "b"');
    expect(textOf(z.array(z.number().int().nullable()))).toBe('(int | null)[]');
    expect(textOf(z.array(z.number()))).toBe('number[]');
    expect(textOf(z.object({ a: z.number().int().min(0), b: z.string() }))).toBe('{ a: int (≥ 0); b: string }');
    expect(textOf(z.object({}))).toBe('object');
    expect(textOf(z.literal('x'))).toBe('"x"');
  });

  it('reads a range as data for forms', () => {
    expect(rangeOf({ type: 'number', exclusiveMinimum: 0, maximum: 1 })).toEqual({ min: 0, exclusiveMin: true, max: 1 });
    expect(rangeOf({ type: 'integer', minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER })).toEqual({});
    expect(rangeText({ min: 2, max: 8, exclusiveMax: true })).toBe('≥ 2, < 8');
    expect(typeText({})).toBe('any');
  });
});
