// The node palette: every registered node kind, grouped by family, with search. Drag an entry onto
// the canvas, or press Enter / click to drop it in the middle of the view. Arrow keys move between entries.
import { useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { useApp } from '../app-context.js';
import type { PaletteEntry } from '../model/catalog.js';

export const DND_MIME = 'application/x-ctxlab-node';

export function Palette({ onAdd }: { onAdd: (e: PaletteEntry) => void }) {
  const { catalog } = useApp();
  const [query, setQuery] = useState('');
  const groups = useMemo(() => catalog.groups(query), [catalog, query]);
  const listRef = useRef<HTMLDivElement>(null);

  const move = (e: KeyboardEvent, dir: number) => {
    const items = [...(listRef.current?.querySelectorAll<HTMLButtonElement>('.pal-item') ?? [])];
    const i = items.indexOf(document.activeElement as HTMLButtonElement);
    const next = items[Math.max(0, Math.min(items.length - 1, i + dir))];
    if (next) {
      e.preventDefault();
      next.focus();
    }
  };

  return (
    <aside className="side" aria-label="Node palette">
      <div className="side-head">
        <div className="side-title">Nodes</div>
        <input
          className="input"
          type="search"
          placeholder="Search nodes…  (e.g. flash, rope, kv)"
          aria-label="Search nodes"
          data-testid="palette-search"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'ArrowDown') move(e, 1);
            if (e.key === 'Enter') {
              const first = groups[0]?.entries[0];
              if (first) onAdd(first);
            }
          }}
        />
      </div>
      <div
        className="side-body"
        ref={listRef}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') move(e, 1);
          if (e.key === 'ArrowUp') move(e, -1);
        }}
      >
        {groups.length === 0 && <div className="empty-note">No node matches “{query}”.</div>}
        {groups.map((g) => (
          <div className="pal-group" key={g.family} role="group" aria-label={g.style.title}>
            <div className="pal-family">
              <span className="pal-swatch" style={{ background: g.style.color }} />
              {g.style.title}
            </div>
            {g.entries.map((e) => (
              <button
                key={e.key}
                className={`pal-item${e.variant ? ' variant' : ''}`}
                style={{ ['--fam' as string]: g.style.color }}
                draggable
                data-testid={`palette-${e.key}`}
                title={`${e.summary}\n\nDrag onto the canvas, or press Enter to add.`}
                onDragStart={(ev) => {
                  ev.dataTransfer.setData(DND_MIME, JSON.stringify({ type: e.type, variant: e.variant }));
                  ev.dataTransfer.effectAllowed = 'copy';
                }}
                onClick={() => onAdd(e)}
              >
                <span className="t">{e.variant ? e.title.split(' · ').pop() : e.title}</span>
                <span className="s">{e.summary}</span>
              </button>
            ))}
          </div>
        ))}
      </div>
      <div className="pal-hint">
        Drag onto the canvas · <span className="kbd">/</span> or double-click to search · <span className="kbd">?</span> shortcuts
      </div>
    </aside>
  );
}
