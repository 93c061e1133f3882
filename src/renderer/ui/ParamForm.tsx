// A form generated from a node's params schema (JSON Schema from its zod declaration): numbers with
// ranges, enums as selects, booleans, strings, arrays, nested objects, and raw JSON for the rest.
// Invalid values are kept in the document (so nothing typed is lost) and marked inline.
import { useEffect, useId, useState } from 'react';
import { fieldsOf, parseNumber, rangeText, type Field } from '../model/params.js';
import type { JsonSchema } from '../../engine/catalog.js';

export interface FormProps {
  schema: JsonSchema | undefined;
  value: Record<string, unknown>;
  /** path → message, from validating the params with the node's zod schema. */
  issues: Map<string, string>;
  onChange(path: string[], value: unknown): void;
  onCommit(): void;
  skip?: string[];
  idPrefix: string;
}

export function ParamForm({ schema, value, issues, onChange, onCommit, skip = [], idPrefix }: FormProps) {
  const fields = fieldsOf(schema, skip);
  if (!fields.length) return <div className="muted">No parameters.</div>;
  return (
    <>
      {fields.map((f) => (
        <FieldView key={f.name} field={f} path={[f.name]} value={value[f.name]} issues={issues} onChange={onChange} onCommit={onCommit} idPrefix={idPrefix} />
      ))}
    </>
  );
}

interface FieldProps {
  field: Field;
  path: string[];
  value: unknown;
  issues: Map<string, string>;
  onChange(path: string[], value: unknown): void;
  onCommit(): void;
  idPrefix: string;
}

function FieldView(props: FieldProps) {
  const { field: f, path, value, issues, onChange, onCommit } = props;
  const id = `${props.idPrefix}-${path.join('-')}`;
  const error = issues.get(path.join('.'));
  const set = (v: unknown) => onChange(path, v);
  const placeholder = f.default !== undefined ? `${formatDefault(f.default)} (default)` : f.required ? 'required' : 'optional';
  const label = (
    <label className="field-label" htmlFor={id}>
      {f.name}
      {f.required && <span style={{ color: 'var(--err)' }}>*</span>}
      {(f.kind === 'number' || f.kind === 'integer') && rangeText(f) && <span className="range">{rangeText(f)}</span>}
    </label>
  );
  const foot = (
    <>
      {error && (
        <div className="field-error" id={`${id}-err`} role="alert">
          {error}
        </div>
      )}
      {f.description && <div className="field-desc">{f.description}</div>}
    </>
  );
  const aria = { 'aria-invalid': error ? true : undefined, 'aria-describedby': error ? `${id}-err` : undefined, id, 'data-testid': `param-${path.join('.')}` } as const;

  switch (f.kind) {
    case 'number':
    case 'integer':
      return (
        <div className="field">
          {label}
          <TextBuffer
            {...aria}
            value={typeof value === 'number' ? String(value) : value === undefined ? '' : String(value)}
            placeholder={placeholder}
            inputMode={f.kind === 'integer' ? 'numeric' : 'decimal'}
            parse={(t) => {
              const n = parseNumber(t);
              return n === undefined ? undefined : Number.isNaN(n) ? t : n;
            }}
            onValue={set}
            onCommit={onCommit}
          />
          {foot}
        </div>
      );
    case 'boolean': {
      const checked = typeof value === 'boolean' ? value : f.default === true;
      return (
        <div className="field">
          <label className="field-check">
            <input type="checkbox" {...aria} checked={checked} onChange={(e) => (set(e.target.checked), onCommit())} />
            {f.name}
            {value === undefined && <span className="muted" style={{ fontWeight: 400 }}>(default)</span>}
          </label>
          {foot}
        </div>
      );
    }
    case 'enum':
      return (
        <div className="field">
          {label}
          <select
            className="input"
            {...aria}
            value={value === undefined ? '' : JSON.stringify(value)}
            onChange={(e) => (set(e.target.value === '' ? undefined : JSON.parse(e.target.value)), onCommit())}
          >
            <option value="">{f.default !== undefined ? `${formatDefault(f.default)} (default)` : f.required ? '— choose —' : '(unset)'}</option>
            {f.options!.map((o) => (
              <option key={JSON.stringify(o)} value={JSON.stringify(o)}>
                {formatDefault(o)}
              </option>
            ))}
          </select>
          {foot}
        </div>
      );
    case 'string':
      return (
        <div className="field">
          {label}
          <TextBuffer {...aria} value={typeof value === 'string' ? value : ''} placeholder={placeholder} parse={(t) => (t === '' ? undefined : t)} onValue={set} onCommit={onCommit} />
          {foot}
        </div>
      );
    case 'array': {
      const numeric = f.items?.type === 'number' || f.items?.type === 'integer';
      if (numeric)
        return (
          <div className="field">
            {label}
            <TextBuffer
              {...aria}
              value={Array.isArray(value) ? value.join(', ') : ''}
              placeholder={f.default !== undefined ? `${formatDefault(f.default)} (default)` : 'comma-separated numbers'}
              parse={(t) => {
                if (t.trim() === '') return undefined;
                const parts = t.split(/[\s,;]+/).filter(Boolean).map((x) => parseNumber(x));
                return parts.some((x) => x === undefined || Number.isNaN(x)) ? t : parts;
              }}
              onValue={set}
              onCommit={onCommit}
            />
            {foot}
          </div>
        );
      return <JsonField {...props} id={id} label={label} foot={foot} />;
    }
    case 'object':
      return (
        <fieldset className="fieldset">
          <legend>{f.name}</legend>
          {f.fields!.map((sub) => (
            <FieldView
              key={sub.name}
              {...props}
              field={sub}
              path={[...path, sub.name]}
              value={typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[sub.name] : undefined}
            />
          ))}
          {error && <div className="field-error">{error}</div>}
        </fieldset>
      );
    default:
      return <JsonField {...props} id={id} label={label} foot={foot} />;
  }
}

function JsonField(props: FieldProps & { id: string; label: React.ReactNode; foot: React.ReactNode }) {
  const [parseError, setParseError] = useState<string | null>(null);
  return (
    <div className="field">
      {props.label}
      <TextBuffer
        multiline
        id={props.id}
        data-testid={`param-${props.path.join('.')}`}
        aria-invalid={parseError || props.issues.get(props.path.join('.')) ? true : undefined}
        value={props.value === undefined ? '' : JSON.stringify(props.value)}
        placeholder={props.field.default !== undefined ? JSON.stringify(props.field.default) : 'JSON'}
        parse={(t) => {
          if (t.trim() === '') {
            setParseError(null);
            return undefined;
          }
          try {
            const v = JSON.parse(t) as unknown;
            setParseError(null);
            return v;
          } catch (err) {
            setParseError((err as Error).message);
            return NO_CHANGE;
          }
        }}
        onValue={(v) => props.onChange(props.path, v)}
        onCommit={props.onCommit}
      />
      {parseError && <div className="field-error">not JSON: {parseError}</div>}
      {props.foot}
    </div>
  );
}

const NO_CHANGE = Symbol('no change');

/**
 * A text input that keeps what the user typed while it is focused (so "1e" or "4096," are not
 * rewritten mid-typing) and pushes each parsed value to the document.
 */
function TextBuffer(props: {
  value: string;
  placeholder?: string;
  parse(text: string): unknown;
  onValue(v: unknown): void;
  onCommit(): void;
  multiline?: boolean;
  inputMode?: 'numeric' | 'decimal';
  id?: string;
  'aria-invalid'?: boolean;
  'aria-describedby'?: string;
  'data-testid'?: string;
}) {
  const [text, setText] = useState(props.value);
  const [focused, setFocused] = useState(false);
  const fallbackId = useId();
  useEffect(() => {
    if (!focused) setText(props.value);
  }, [props.value, focused]);
  const common = {
    id: props.id ?? fallbackId,
    className: 'input',
    value: text,
    placeholder: props.placeholder,
    'aria-invalid': props['aria-invalid'],
    'aria-describedby': props['aria-describedby'],
    'data-testid': props['data-testid'],
    spellCheck: false,
    onFocus: () => setFocused(true),
    onBlur: () => {
      setFocused(false);
      props.onCommit();
    },
    onChange: (e: { target: { value: string } }) => {
      setText(e.target.value);
      const v = props.parse(e.target.value);
      if (v !== NO_CHANGE) props.onValue(v);
    },
  };
  return props.multiline ? (
    <textarea {...common} rows={3} />
  ) : (
    <input
      {...common}
      inputMode={props.inputMode}
      onKeyDown={(e) => {
        if (e.key === 'Enter') (e.target as HTMLInputElement).blur();
      }}
    />
  );
}

function formatDefault(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}
