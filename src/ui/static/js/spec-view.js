// The app's spec as stored (defaults filled in) and its revision.

import { clockTime, fill, h } from './dom.js';
import { fact } from './app-card.js';

export function mountSpec(root, app) {
  fill(
    root,
    h(
      'dl',
      { class: 'facts facts-wide' },
      fact('Revision', String(app.revision)),
      fact('Declared in', app.source === 'config' ? "the gateway's config file" : 'the API'),
      fact('Created', app.createdAt ? clockTime(app.createdAt) : '—'),
      fact('Updated', app.updatedAt ? clockTime(app.updatedAt) : '—'),
    ),
    h('pre', { class: 'code', tabindex: '0', 'aria-label': `Spec of ${app.name}, revision ${app.revision}` }, JSON.stringify(app.spec, null, 2)),
  );
}
