// An edge coloured by its port kind, labelled with the inferred shape of the value it carries
// (e.g. `8×4096×64 f32`); clicking the label opens the tensor preview.
import { BaseEdge, EdgeLabelRenderer, getBezierPath, type EdgeProps } from '@xyflow/react';
import { memo } from 'react';
import { useApp } from '../app-context.js';
import { PORT_COLORS } from '../model/catalog.js';
import { formatPortShape } from '../model/format.js';
import type { FlowEdge } from '../model/graph.js';
import { labelEdges, typeIndex } from '../state/derived.js';
import { useStore } from '../state/store.js';

function ShapeEdgeView(props: EdgeProps<FlowEdge>) {
  const { id, source, sourceHandleId: sourceHandle, sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, selected } = props;
  const { analysis, catalog, metrics, ui, editor } = useApp();
  const shape = useStore(analysis.store, (s) => s.shapes[source]?.[sourceHandle ?? '']);
  const sourceType = useStore(editor.store, (s) => typeIndex(s.nodes).get(source));
  const hasValue = useStore(metrics, (s) => !!s.nodes[source]?.outputs?.[sourceHandle ?? '']);
  const running = useStore(metrics, (s) => s.nodes[props.target]?.status === 'running');
  const kind = shape?.kind ?? (sourceType ? catalog.def(sourceType)?.outputs[sourceHandle ?? '']?.kind : undefined);
  const color = kind ? PORT_COLORS[kind] : undefined;
  const carriesLabel = useStore(editor.store, (s) => labelEdges(s.edges).has(id));
  const [path] = getBezierPath({ sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition });
  // The label sits right after the output handle, like a type annotation: ports are one row apart,
  // so labels never pile up the way midpoint labels of fanned-out edges do.
  const label = carriesLabel || selected ? formatPortShape(shape) : '';
  return (
    <>
      <BaseEdge id={id} path={path} style={{ stroke: color, opacity: selected ? 1 : 0.8, strokeDasharray: running ? '6 4' : undefined }} />
      {label && (
        <EdgeLabelRenderer>
          <div
            className={`edge-label nodrag nopan${selected ? ' selected' : ''}`}
            style={{ transform: `translate(0, -50%) translate(${sourceX + 9}px, ${sourceY}px)`, borderColor: selected ? undefined : color }}
            data-testid={`edge-label-${id}`}
            title={hasValue ? 'Click to preview the value' : 'Inferred shape (run to preview the value)'}
            onClick={() => {
              ui.set({ preview: { node: source, port: sourceHandle ?? '' } });
              ui.showTab('preview');
            }}
          >
            {label}
          </div>
        </EdgeLabelRenderer>
      )}
    </>
  );
}

export const ShapeEdge = memo(ShapeEdgeView);
