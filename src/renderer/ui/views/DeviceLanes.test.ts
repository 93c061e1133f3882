// The device rows render one row per device and one bar per span, placed on the Timeline's axis.
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { expect, it } from 'vitest';
import { parseDeviceLanes } from '../../model/device-lanes.js';
import { DeviceRows } from './DeviceLanes.js';

it('draws a row per device with its compute, send and wait spans at the node start plus their times', () => {
  const lanes = parseDeviceLanes({
    transport: 'in-process',
    timing: {
      lanes: [
        { device: 0, peakBytes: 2048, bytesSent: 64, spans: [['send', 0, 0, 10], ['compute', 0, 10, 30]] },
        { device: 1, peakBytes: 2048, bytesSent: 64, spans: [['wait', 0, 30, 40]] },
      ],
    },
  })!;
  const html = renderToStaticMarkup(createElement(DeviceRows, { id: 'ring', lanes, nodeStart: 100, total: 200 }));
  expect(html.match(/data-testid="device-lane"/g)).toHaveLength(2);
  // Node start 100 ms on a 200 ms axis: the send span from 0 to 10 ms sits at 50%, 5% wide; the wait at 130 ms, 65%.
  expect(html).toContain('left:50%;width:5%;background:var(--warn)');
  expect(html).toContain('left:65%;width:5%;background:var(--text-3)');
  expect(html).toContain('device 1, step 0: wait 10.0 ms');
  expect(html).toContain('device 0 (in-process)');
});
