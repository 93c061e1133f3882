// The example pipelines of pipelines/, bundled into the app for the start screen.
const files = import.meta.glob('../../../pipelines/*.json', { eager: true, import: 'default' }) as Record<string, unknown>;

export interface Example {
  file: string;
  name: string;
  description: string;
  doc: unknown;
  nodeCount: number;
}

export const examples: Example[] = Object.entries(files)
  .map(([path, doc]) => {
    const d = doc as { name?: string; description?: string; nodes?: unknown[] };
    return { file: path.split('/').pop()!, name: d.name ?? path, description: d.description ?? '', doc, nodeCount: d.nodes?.length ?? 0 };
  })
  .sort((a, b) => a.name.localeCompare(b.name));
