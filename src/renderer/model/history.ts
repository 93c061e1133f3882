// Undo/redo over snapshots. A step is pushed before each change; changes that share a coalescing
// key within a short time (typing in one param field, nudging one node) make a single step.

export class History<T> {
  private past: T[] = [];
  private future: T[] = [];
  private lastKey: string | undefined;
  private lastTime = 0;

  constructor(
    private readonly limit = 200,
    private readonly coalesceMs = 1000,
  ) {}

  /** Records `before` (the state before a change) as an undo step. */
  push(before: T, key?: string, now = Date.now()): void {
    const coalesce = key !== undefined && key === this.lastKey && now - this.lastTime < this.coalesceMs;
    this.lastKey = key;
    this.lastTime = now;
    this.future = [];
    if (coalesce) return;
    this.past.push(before);
    if (this.past.length > this.limit) this.past.shift();
  }

  /** Returns the state to go back to, or undefined; `current` becomes redoable. */
  undo(current: T): T | undefined {
    const prev = this.past.pop();
    if (prev === undefined) return undefined;
    this.future.push(current);
    this.lastKey = undefined;
    return prev;
  }

  redo(current: T): T | undefined {
    const next = this.future.pop();
    if (next === undefined) return undefined;
    this.past.push(current);
    this.lastKey = undefined;
    return next;
  }

  /** Ends a coalescing run: the next push is its own step. */
  seal(): void {
    this.lastKey = undefined;
  }

  clear(): void {
    this.past = [];
    this.future = [];
    this.lastKey = undefined;
  }

  get canUndo(): boolean {
    return this.past.length > 0;
  }

  get canRedo(): boolean {
    return this.future.length > 0;
  }
}
