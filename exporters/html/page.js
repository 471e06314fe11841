/* page.js - the memscope HTML report: draws the page from the JSON island
 * that exporters/html.c writes (id "memscope-data").  Plain DOM and SVG, no
 * libraries, no network: the page's Content-Security-Policy forbids it.
 *
 * Data layout (version 2):
 *   summary   the capture's totals, as memscope_summary (version 1's fields)
 *   sampling  {interval, estimated} when a sampling backend wrote the capture,
 *             else null; estimated: every count and byte below is an estimate
 *   tracking  {attempts, successes, misses, waits, growths, completeness,
 *             warning_below} when the backend's counters were recorded, else null
 *   flame     [[parent, kind, name, file, line, bytes, count, peak, leaked]],
 *             parents first; kind 0 function, 1 module only, 2 "other"
 *   results   [{analyzer, findings: [[severity, text]],
 *               tables: [{name, title, total_rows, columns: [[name, title, type]],
 *                         rows: [[...]]}]}]
 *   stacks    {"id": [[function, file, line, module, offset, inlined]]}, innermost first
 *   threads   [[index, name, blocks, bytes, peak_bytes, leaked_blocks, leaked_bytes]]
 *   timeline  [[time_ns, heap_live, rss, jemalloc_active, jemalloc_resident]]
 *
 * With "#selftest" in the URL the page checks itself after drawing and
 * records the verdict in document.body.dataset.selftest.
 */
(function () {
  'use strict';

  const SVG_NS = 'http://www.w3.org/2000/svg';
  const TABLE_ROWS_SHOWN = 300;
  const data = JSON.parse(document.getElementById('memscope-data').textContent);
  const summary = data.summary;
  const sampling = data.sampling || null;
  const tracking = data.tracking || null;
  /* Estimates carry a "~" wherever they are shown, as in the text report. */
  const estimated = Boolean(sampling && sampling.estimated);
  const mark = estimated ? '~' : '';
  const trackingWarns = Boolean(tracking && tracking.completeness < tracking.warning_below);

  /* ---- formatting ---------------------------------------------------- */

  function grouped(value) {
    return String(Math.round(value)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  }

  function bytesText(value) {
    const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
    let scaled = value;
    let unit = 0;
    while (scaled >= 1024 && unit < units.length - 1) {
      scaled /= 1024;
      unit++;
    }
    return unit === 0 ? grouped(value) + ' bytes' : scaled.toFixed(1) + ' ' + units[unit];
  }

  function timeText(ns) {
    if (ns < 1e6) return ns < 1e3 ? ns + ' ns' : (ns / 1e3).toFixed(1) + ' \u00b5s';
    if (ns < 1e9) return (ns / 1e6).toFixed(ns < 1e7 ? 2 : 1) + ' ms';
    if (ns < 60e9) return (ns / 1e9).toFixed(2) + ' s';
    return Math.floor(ns / 60e9) + ' min ' + Math.floor((ns % 60e9) / 1e9) + ' s';
  }

  /* A share as a percentage cut, not rounded, to one decimal: 94.96% of the
   * events is not shown as the 95% that passes. */
  function percentDown(share) {
    return (Math.floor(share * 1000) / 10).toFixed(1) + '%';
  }

  function counted(count, noun) {
    return grouped(count) + ' ' + noun + (count === 1 ? '' : 's');
  }

  function intervalText(bytes) {
    if (bytes >= 1048576 && bytes % 1048576 === 0) return grouped(bytes / 1048576) + ' MiB';
    if (bytes >= 1024 && bytes % 1024 === 0) return grouped(bytes / 1024) + ' KiB';
    return grouped(bytes) + ' bytes';
  }

  function valueText(type, value) {
    if (value === null || value === undefined) return '';
    switch (type) {
      case 'bytes': return bytesText(value);
      case 'count': return grouped(value);
      case 'time': return timeText(value);
      case 'ratio': return (value * 100).toFixed(1) + '%';
      case 'stack': return stackLabel(value);
      default: return String(value);
    }
  }

  /* ---- DOM helpers ------------------------------------------------------ */

  function element(tag, attributes, children) {
    const node = document.createElement(tag);
    for (const key in attributes || {}) {
      if (key === 'text') node.textContent = attributes[key];
      else if (key === 'class') node.className = attributes[key];
      else node.setAttribute(key, attributes[key]);
    }
    for (const child of children || []) if (child) node.appendChild(child);
    return node;
  }

  function svgElement(tag, attributes) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const key in attributes || {}) node.setAttribute(key, attributes[key]);
    return node;
  }

  function section(id, title) {
    const box = element('section', { id: id }, [element('h2', { text: title })]);
    main.appendChild(box);
    return box;
  }

  const tooltip = element('div', { class: 'tooltip' });
  function showTooltip(event, text) {
    tooltip.textContent = text;
    tooltip.style.display = 'block';
    const x = Math.min(event.clientX + 14, window.innerWidth - tooltip.offsetWidth - 8);
    const y = Math.min(event.clientY + 14, window.innerHeight - tooltip.offsetHeight - 8);
    tooltip.style.left = Math.max(0, x) + 'px';
    tooltip.style.top = Math.max(0, y) + 'px';
  }
  function hideTooltip() {
    tooltip.style.display = 'none';
  }

  /* ---- stacks ------------------------------------------------------------ */

  function frameName(frame) {
    if (frame[0]) return frame[0];
    const module = frame[3] ? frame[3].split('/').pop() : '?';
    return '[' + module + '+0x' + Number(frame[4]).toString(16) + ']';
  }

  function frameWhere(frame) {
    return frame[1] ? frame[1] + ':' + frame[2] : '';
  }

  function stackLabel(id) {
    const frames = data.stacks[id];
    if (!frames || frames.length === 0) return 'stack ' + id;
    const where = frameWhere(frames[0]);
    const name = frameName(frames[0]);
    return where ? name + ' (' + where.split('/').pop() + ')' : name;
  }

  const panel = element('aside', { id: 'stack-panel' });
  function showStack(id, caption) {
    const frames = data.stacks[id] || [];
    const close = element('button', { class: 'close', text: 'close' });
    close.addEventListener('click', () => document.body.classList.remove('panel-open'));
    const list = element('ol', { start: '0' });
    for (const frame of frames) {
      list.appendChild(element('li', {}, [
        element('div', { class: 'function', text: frameName(frame) + (frame[5] ? ' (inlined)' : '') }),
        element('div', { class: 'where', text: frameWhere(frame) }),
        element('div', { class: 'where', text: frame[3] ? frame[3] + ' +0x' + Number(frame[4]).toString(16) : '' }),
      ]));
    }
    panel.replaceChildren(close, element('h2', { text: 'Stack ' + id }),
      element('p', { class: 'note', text: caption }),
      frames.length ? list : element('p', { class: 'note', text: 'no frames recorded' }));
    document.body.classList.add('panel-open');
  }

  /* ---- summary ----------------------------------------------------------- */

  function card(label, value, detail, field, bad) {
    const detailNode = element('div', { class: 'detail', text: detail || '' });
    const valueNode = element('div', { class: 'value', text: value });
    /* The exact number goes where the self-test can read it. */
    if (field) (detail ? detailNode : valueNode).dataset.field = field;
    return element('div', { class: 'card' + (bad ? ' bad' : '') }, [
      element('div', { class: 'label', text: label }), valueNode, detailNode]);
  }

  /* What the figures are, before any of them: estimates from a sampled
   * capture, and a record the backend could not keep complete. */
  function drawNotices() {
    if (estimated) {
      main.appendChild(element('div', { class: 'notice', id: 'sampling-notice',
        text: 'Sampled capture: one point every ' + intervalText(sampling.interval) +
          ' allocated on average (Poisson). Counts and bytes are estimates, marked ~.' }));
    }
    if (trackingWarns) {
      main.appendChild(element('div', { class: 'notice bad', id: 'tracking-warning',
        text: 'Only ' + percentDown(tracking.completeness) + ' of the events the backend saw were recorded (' +
          grouped(tracking.misses) + ' of ' + grouped(tracking.attempts) + ' dropped): counts and bytes ' +
          'are low, and leaks may include blocks whose free was dropped.' }));
    }
  }

  function drawSummary() {
    const box = section('summary', 'Summary');
    const leakedLabel = summary.ended_cleanly ? 'Leaked' : 'Live at end';
    const cards = element('div', { class: 'cards' }, [
      card('Allocations', mark + grouped(summary.allocations),
        summary.reallocations ? mark + grouped(summary.reallocations) + ' resized in place' : '', 'allocations'),
      card('Frees', mark + grouped(summary.frees), '', 'frees'),
      card('Bytes allocated', mark + bytesText(summary.allocated_bytes),
        mark + grouped(summary.allocated_bytes) + ' bytes', 'allocated_bytes'),
      card('Peak', mark + bytesText(summary.peak_bytes),
        mark + grouped(summary.peak_bytes) + ' bytes at ' + timeText(summary.peak_time_ns), 'peak_bytes'),
      card(leakedLabel + ' blocks', mark + grouped(summary.live_blocks), '', 'live_blocks',
        summary.ended_cleanly && summary.live_blocks > 0),
      card(leakedLabel + ' bytes', mark + bytesText(summary.live_bytes),
        mark + grouped(summary.live_bytes) + ' bytes', 'live_bytes',
        summary.ended_cleanly && summary.live_bytes > 0),
      card('Duration', timeText(summary.duration_ns), '', null),
      card('Threads', grouped(summary.threads), '', 'threads'),
      card('Backend', summary.backend || '?', summary.truncated ? 'capture cut short' :
        summary.ended_cleanly ? 'ended cleanly' : 'no trailer', null),
    ]);
    if (sampling) {
      cards.appendChild(estimated ?
        card('Sample interval', intervalText(sampling.interval),
          'allocated per sample on average (Poisson): figures are estimates', null) :
        card('Sampling', 'none', 'every allocation recorded: figures are counts', null));
    }
    if (tracking) {
      const attempts = tracking.attempts || 1;
      const tracked = card('Recorded', percentDown(tracking.completeness),
        grouped(tracking.successes) + ' of ' + grouped(tracking.attempts) + ' events, ' +
        grouped(tracking.misses) + ' dropped; drop rate ' + (tracking.misses / attempts * 100).toFixed(2) +
        '%, contention rate ' + (tracking.waits / attempts * 100).toFixed(2) + '% (' +
        counted(tracking.waits, 'wait') + ', ' + counted(tracking.growths, 'buffer growth') + ')', null, trackingWarns);
      tracked.id = 'tracking-card';
      cards.appendChild(tracked);
    }
    box.appendChild(cards);
  }

  /* ---- findings ----------------------------------------------------------- */

  function drawFindings() {
    const order = { problem: 0, warning: 1, info: 2 };
    const all = [];
    for (const result of data.results)
      for (const finding of result.findings)
        all.push({ analyzer: result.analyzer, severity: finding[0], text: finding[1] });
    if (all.length === 0) return;
    all.sort((a, b) => order[a.severity] - order[b.severity]);
    const list = element('ul', { class: 'findings' });
    for (const finding of all) {
      list.appendChild(element('li', {}, [
        element('span', { class: 'badge ' + finding.severity, text: finding.severity }),
        element('span', { text: finding.text }),
        element('span', { class: 'note', text: finding.analyzer }),
      ]));
    }
    section('findings', 'Findings').appendChild(list);
  }

  /* ---- memory over time ------------------------------------------------------ */

  const SERIES = [
    { index: 1, name: 'live heap', color: 'var(--heap)', on: true },
    { index: 2, name: 'RSS', color: 'var(--rss)', on: true },
    { index: 3, name: 'jemalloc active', color: 'var(--active)', on: true },
    { index: 4, name: 'jemalloc resident', color: 'var(--resident)', on: true },
  ];

  /* Ticks at 1, 2 or 5 times a power of ten, about count of them. */
  function niceStep(range, count) {
    const rough = range / count;
    const power = Math.pow(10, Math.floor(Math.log10(rough)));
    const fraction = rough / power;
    return power * (fraction < 1.5 ? 1 : fraction < 3.5 ? 2 : fraction < 7.5 ? 5 : 10);
  }

  function byteStep(range, count) {
    /* Powers of two for bytes read better: 256 KiB, 1 MiB, ... */
    const rough = range / count;
    let step = 1;
    while (step * 2 <= rough) step *= 2;
    return step * 2 <= rough * 1.5 ? step * 2 : step;
  }

  function drawChart() {
    const box = section('chart', 'Memory over time');
    const timeline = data.timeline;
    if (timeline.length === 0) {
      box.appendChild(element('p', { class: 'note', text: 'This capture has no timeline samples.' }));
      return;
    }
    const legend = element('div', { class: 'toolbar legend' });
    for (const series of SERIES) {
      const check = element('input', { type: 'checkbox' });
      check.checked = series.on;
      check.addEventListener('change', () => { series.on = check.checked; redraw(); });
      const swatch = element('i');
      swatch.style.background = series.color;
      legend.appendChild(element('label', {}, [check, swatch, document.createTextNode(' ' + series.name)]));
    }
    legend.appendChild(element('span', { class: 'note', text: 'drag to zoom, double-click to reset' }));
    const svg = svgElement('svg', { class: 'chart' });
    box.appendChild(legend);
    box.appendChild(svg);

    /* The whole capture, from its start, even before the first sample. */
    const fullStart = 0;
    const fullEnd = Math.max(timeline[timeline.length - 1][0], summary.duration_ns, 1);
    let view = [fullStart, fullEnd];
    const margin = { left: 78, right: 34, top: 10, bottom: 26 };
    let width = 0;
    const height = 300;
    let dragFrom = null;
    let selection = null;

    function xOf(t) {
      return margin.left + (t - view[0]) / (view[1] - view[0]) * (width - margin.left - margin.right);
    }
    function tOf(x) {
      return view[0] + (x - margin.left) / (width - margin.left - margin.right) * (view[1] - view[0]);
    }

    function redraw() {
      width = svg.clientWidth || 1000;
      svg.setAttribute('viewBox', '0 0 ' + width + ' ' + height);
      svg.replaceChildren();
      /* The points in view, and one either side so lines reach the edges. */
      let first = 0;
      while (first < timeline.length - 1 && timeline[first + 1][0] < view[0]) first++;
      let last = timeline.length - 1;
      while (last > 0 && timeline[last - 1][0] > view[1]) last--;
      const shown = SERIES.filter(series => series.on);
      let top = 1;
      for (let i = first; i <= last; i++)
        for (const series of shown) top = Math.max(top, timeline[i][series.index]);
      const step = byteStep(top, 5);
      top = Math.ceil(top / step) * step;
      const plotBottom = height - margin.bottom;
      const yOf = value => plotBottom - value / top * (plotBottom - margin.top);

      for (let value = 0; value <= top; value += step) {
        const y = yOf(value);
        svg.appendChild(svgElement('line', { class: 'grid', x1: margin.left, x2: width - margin.right, y1: y, y2: y }));
        const label = svgElement('text', { x: margin.left - 6, y: y + 4, 'text-anchor': 'end' });
        label.textContent = bytesText(value);
        svg.appendChild(label);
      }
      const timeStep = niceStep(view[1] - view[0], Math.max(2, Math.floor(width / 120)));
      for (let t = Math.ceil(view[0] / timeStep) * timeStep; t <= view[1]; t += timeStep) {
        const x = xOf(t);
        svg.appendChild(svgElement('line', { class: 'grid', x1: x, x2: x, y1: margin.top, y2: plotBottom }));
        const label = svgElement('text', { x: x, y: height - 8, 'text-anchor': 'middle' });
        label.textContent = timeText(t);
        svg.appendChild(label);
      }
      svg.appendChild(svgElement('line', { class: 'axis', x1: margin.left, x2: width - margin.right, y1: plotBottom, y2: plotBottom }));

      const clip = svgElement('clipPath', { id: 'plot-clip' });
      clip.appendChild(svgElement('rect', { x: margin.left, y: 0, width: width - margin.left - margin.right, height: plotBottom }));
      svg.appendChild(clip);
      for (const series of shown) {
        /* Per pixel column at most its lowest and highest point. */
        const points = [];
        let column = null, low = null, high = null;
        const flush = () => {
          if (column === null) return;
          points.push(column + ',' + yOf(low).toFixed(1));
          if (high !== low) points.push(column + ',' + yOf(high).toFixed(1));
        };
        for (let i = first; i <= last; i++) {
          const x = Math.round(xOf(timeline[i][0]));
          const value = timeline[i][series.index];
          if (x !== column) {
            flush();
            column = x; low = value; high = value;
          } else {
            low = Math.min(low, value); high = Math.max(high, value);
          }
        }
        flush();
        if (points.length === 1) points.push((Number(points[0].split(',')[0]) + 2) + ',' + points[0].split(',')[1]);
        svg.appendChild(svgElement('polyline', {
          points: points.join(' '), fill: 'none', stroke: series.color, 'stroke-width': 1.6,
          'clip-path': 'url(#plot-clip)', class: 'series',
        }));
      }
      if (summary.peak_time_ns >= view[0] && summary.peak_time_ns <= view[1]) {
        const x = xOf(summary.peak_time_ns);
        svg.appendChild(svgElement('line', { class: 'peak', x1: x, x2: x, y1: margin.top, y2: plotBottom }));
        const label = svgElement('text', { x: x + 4, y: margin.top + 10 });
        label.textContent = 'peak ' + mark + bytesText(summary.peak_bytes);
        svg.appendChild(label);
      }
      svg.dataset.view = view[0] + '-' + view[1];
      selection = svgElement('rect', { class: 'selection', y: margin.top, height: plotBottom - margin.top, width: 0, display: 'none' });
      svg.appendChild(selection);
    }

    function pointerX(event) {
      const box = svg.getBoundingClientRect();
      return (event.clientX - box.left) * (width / box.width);
    }
    svg.addEventListener('mousedown', event => {
      dragFrom = pointerX(event);
      event.preventDefault();
    });
    svg.addEventListener('mousemove', event => {
      const x = pointerX(event);
      if (dragFrom !== null) {
        selection.setAttribute('display', 'inline');
        selection.setAttribute('x', Math.min(x, dragFrom));
        selection.setAttribute('width', Math.abs(x - dragFrom));
        return;
      }
      const t = tOf(x);
      let nearest = 0;
      for (let i = 1; i < timeline.length; i++)
        if (Math.abs(timeline[i][0] - t) < Math.abs(timeline[nearest][0] - t)) nearest = i;
      const sample = timeline[nearest];
      showTooltip(event, timeText(sample[0]) + '\n' +
        SERIES.map(series => series.name + ': ' + bytesText(sample[series.index])).join('\n'));
    });
    svg.addEventListener('mouseleave', hideTooltip);
    window.addEventListener('mouseup', event => {
      if (dragFrom === null) return;
      const x = pointerX(event);
      const from = Math.min(x, dragFrom), to = Math.max(x, dragFrom);
      dragFrom = null;
      if (to - from >= 4) {
        const start = tOf(from), end = tOf(to);
        view = [Math.max(fullStart, start), Math.min(fullEnd, Math.max(end, start + 1))];
      }
      redraw();
    });
    svg.addEventListener('dblclick', () => { view = [fullStart, fullEnd]; redraw(); });
    window.addEventListener('resize', redraw);
    redraw();
  }

  /* ---- flame graph ------------------------------------------------------------ */

  const METRICS = [
    { column: 5, name: 'allocated bytes', bytes: true },
    { column: 6, name: 'allocations', bytes: false },
    { column: 7, name: 'live at peak', bytes: true },
    { column: 8, name: 'leaked bytes', bytes: true },
  ];

  function hue(name) {
    let hash = 0;
    for (let i = 0; i < name.length; i++) hash = (hash * 31 + name.charCodeAt(i)) | 0;
    return Math.abs(hash);
  }

  function drawFlame() {
    const box = section('flame', 'Allocation flame graph');
    const nodes = data.flame;
    if (!nodes || nodes.length === 0) {
      box.appendChild(element('p', { class: 'note', text: 'No allocations.' }));
      return;
    }
    const children = nodes.map(() => []);
    for (let i = 1; i < nodes.length; i++) children[nodes[i][0]].push(i);
    let metric = METRICS[0];
    let focus = 0;

    const toolbar = element('div', { class: 'toolbar' });
    for (const choice of METRICS) {
      const radio = element('input', { type: 'radio', name: 'flame-metric' });
      radio.checked = choice === metric;
      radio.addEventListener('change', () => { metric = choice; focus = 0; redraw(); });
      toolbar.appendChild(element('label', {}, [radio, document.createTextNode(' ' + choice.name)]));
    }
    toolbar.appendChild(element('span', { class: 'note',
      text: 'outermost frame at the top; click a frame to zoom, click "all" to reset; ' +
        grouped(data.stack_count || 0) + ' stacks, frames under 0.1% folded into "other"' }));
    const svg = svgElement('svg', { class: 'flame' });
    box.appendChild(toolbar);
    box.appendChild(svg);

    const rowHeight = 18;
    function amountText(node, choice) {
      const value = node[choice.column];
      const total = nodes[0][choice.column];
      const share = total ? ' (' + (value / total * 100).toFixed(1) + '%)' : '';
      return mark + (choice.bytes ? bytesText(value) : grouped(value)) + share;
    }
    function describe(index) {
      const node = nodes[index];
      const name = node[1] === 1 ? '[' + node[2] + ']' : node[2];
      const lines = [name];
      if (node[3]) lines.push(node[3] + ':' + node[4]);
      for (const choice of METRICS) lines.push(choice.name + ': ' + amountText(node, choice));
      return lines.join('\n');
    }

    function redraw() {
      const width = svg.clientWidth || 1000;
      svg.replaceChildren();
      const total = nodes[focus][metric.column];
      if (!total) {
        svg.setAttribute('viewBox', '0 0 ' + width + ' ' + rowHeight * 2);
        svg.setAttribute('height', rowHeight * 2);
        const label = svgElement('text', { x: 4, y: 14 });
        label.textContent = 'nothing to show for ' + metric.name;
        svg.appendChild(label);
        return;
      }
      /* The focus's ancestors, full width above it. */
      const path = [];
      for (let i = focus; i >= 0; i = nodes[i][0]) { path.unshift(i); if (i === 0) break; }
      const rects = [];
      path.forEach((index, depth) => rects.push([index, 0, width, depth]));
      let maxDepth = path.length - 1;
      function layout(index, x, w, depth) {
        const kids = children[index].filter(kid => nodes[kid][metric.column] > 0);
        kids.sort((a, b) => nodes[b][metric.column] - nodes[a][metric.column]);
        let cursor = x;
        for (const kid of kids) {
          const kidWidth = nodes[kid][metric.column] / total * width;
          if (kidWidth >= 0.5) {
            rects.push([kid, cursor, kidWidth, depth + 1]);
            maxDepth = Math.max(maxDepth, depth + 1);
            layout(kid, cursor, kidWidth, depth + 1);
          }
          cursor += kidWidth;
        }
      }
      layout(focus, 0, width, path.length - 1);
      const height = (maxDepth + 1) * rowHeight;
      svg.setAttribute('viewBox', '0 0 ' + width + ' ' + height);
      svg.setAttribute('height', height);
      const fragment = document.createDocumentFragment();
      for (const [index, x, w, depth] of rects) {
        const node = nodes[index];
        const group = svgElement('g');
        const color = node[1] === 2 ? '#d5d9de' : node[1] === 1 ? '#b9c0c8' :
          index === 0 ? '#e8b27a' : 'hsl(' + (10 + hue(node[2]) % 40) + ',' + (70 + hue(node[2]) % 20) + '%,' + (62 + hue(node[2]) % 12) + '%)';
        const rect = svgElement('rect', { x: x.toFixed(2), y: depth * rowHeight, width: Math.max(w - 0.5, 0.5).toFixed(2), height: rowHeight - 1, fill: color });
        rect.dataset.node = index;
        group.appendChild(rect);
        if (w > 40) {
          const label = svgElement('text', { x: (x + 4).toFixed(1), y: depth * rowHeight + 13 });
          const name = node[1] === 1 ? '[' + node[2] + ']' : node[2];
          const fits = Math.floor((w - 8) / 6.5);
          label.textContent = name.length > fits ? name.slice(0, Math.max(fits - 1, 1)) + '\u2026' : name;
          group.appendChild(label);
        }
        group.addEventListener('mousemove', event => showTooltip(event, describe(index)));
        group.addEventListener('mouseleave', hideTooltip);
        group.addEventListener('click', () => { focus = index === focus ? nodes[index][0] : index; if (focus < 0) focus = 0; redraw(); });
        fragment.appendChild(group);
      }
      svg.appendChild(fragment);
      svg.dataset.focus = focus;
    }
    window.addEventListener('resize', redraw);
    redraw();
  }

  /* ---- tables ----------------------------------------------------------------- */

  /* A sortable, filterable table of typed columns; rows with a stack open
   * it in the side panel. */
  function drawTable(parent, table, options) {
    const columns = table.columns.map(column => ({ name: column[0], title: column[1], type: column[2] }));
    const stackColumn = columns.findIndex(column => column.type === 'stack');
    const numeric = type => type === 'bytes' || type === 'count' || type === 'time' || type === 'ratio';
    const wrap = element('div', { class: 'table-wrap' });
    const filter = element('input', { class: 'filter', type: 'search', placeholder: 'filter rows' });
    const note = element('span', { class: 'note' });
    parent.appendChild(element('h3', { text: table.title || table.name }));
    parent.appendChild(element('div', { class: 'toolbar' }, [filter, note]));
    parent.appendChild(wrap);
    if (options && options.caption) parent.appendChild(element('p', { class: 'note', text: options.caption }));

    const searchText = table.rows.map(row => columns.map((column, c) =>
      column.type === 'text' ? String(row[c] || '') :
        column.type === 'stack' ? (data.stacks[row[c]] || []).map(frameName).join(' ') : '').join(' ').toLowerCase());
    let sortColumn = -1, ascending = false;
    const headRow = element('tr');
    columns.forEach((column, c) => {
      const th = element('th', { text: column.title || column.name, class: numeric(column.type) ? 'num' : '' });
      th.addEventListener('click', () => {
        ascending = sortColumn === c ? !ascending : !numeric(column.type);
        sortColumn = c;
        render();
      });
      headRow.appendChild(th);
    });
    const body = element('tbody');
    wrap.appendChild(element('table', {}, [element('thead', {}, [headRow]), body]));
    let selected = null;

    function render() {
      const words = filter.value.trim().toLowerCase();
      let order = table.rows.map((row, index) => index);
      if (words) order = order.filter(index => searchText[index].includes(words));
      if (sortColumn >= 0) {
        const type = columns[sortColumn].type;
        const key = index => {
          const value = table.rows[index][sortColumn];
          return type === 'stack' ? stackLabel(value) : value === null ? '' : value;
        };
        order.sort((a, b) => {
          const left = key(a), right = key(b);
          const compared = left < right ? -1 : left > right ? 1 : 0;
          return ascending ? compared : -compared;
        });
      }
      headRow.childNodes.forEach((th, c) => {
        th.classList.toggle('sorted-up', c === sortColumn && ascending);
        th.classList.toggle('sorted-down', c === sortColumn && !ascending);
      });
      const fragment = document.createDocumentFragment();
      for (const index of order.slice(0, TABLE_ROWS_SHOWN)) {
        const row = table.rows[index];
        const tr = element('tr');
        columns.forEach((column, c) => {
          const td = element('td', { text: valueText(column.type, row[c]),
            class: numeric(column.type) ? 'num' : column.type === 'stack' ? 'stack' : '' });
          if (column.type === 'bytes' && row[c] !== null) td.title = grouped(row[c]) + ' bytes';
          tr.appendChild(td);
        });
        if (stackColumn >= 0) {
          tr.classList.add('clickable');
          tr.addEventListener('click', () => {
            if (selected) selected.classList.remove('selected');
            selected = tr;
            tr.classList.add('selected');
            showStack(row[stackColumn], (table.title || table.name) + ': ' +
              columns.filter(column => column.type !== 'stack' && column.type !== 'text')
                .map(column => (column.title || column.name) + ' ' + valueText(column.type, row[columns.indexOf(column)]))
                .join(', '));
          });
        }
        fragment.appendChild(tr);
      }
      body.replaceChildren(fragment);
      const total = table.total_rows || table.rows.length;
      note.textContent = 'showing ' + Math.min(order.length, TABLE_ROWS_SHOWN) + ' of ' +
        grouped(order.length) + (words ? ' matching' : '') + ' rows' +
        (total > table.rows.length ? ' (the report holds the first ' + grouped(table.rows.length) + ' of ' + grouped(total) + ')' : '');
    }
    filter.addEventListener('input', render);
    render();
  }

  const ANALYZER_TITLES = {
    leaks: 'Leaks',
    hotspots: 'Hotspots',
    fragmentation: 'Fragmentation',
  };

  function drawResults() {
    const order = ['leaks', 'hotspots'];
    const results = data.results.slice().sort((a, b) => {
      const left = order.indexOf(a.analyzer), right = order.indexOf(b.analyzer);
      return (left < 0 ? 99 : left) - (right < 0 ? 99 : right);
    });
    for (const result of results) {
      if (result.tables.length === 0) continue;
      const title = ANALYZER_TITLES[result.analyzer] || 'Analyzer: ' + result.analyzer;
      const box = section('analyzer-' + result.analyzer, title);
      for (const table of result.tables) drawTable(box, table);
    }
  }

  function drawThreads() {
    if (!data.threads || data.threads.length === 0) return;
    const box = section('threads', 'Threads');
    drawTable(box, {
      name: 'threads', title: 'Blocks and bytes per allocating thread' + (estimated ? ' (estimated)' : ''),
      columns: [['thread', 'Thread', 'count'], ['name', 'Name', 'text'], ['blocks', 'Blocks', 'count'],
        ['bytes', 'Bytes', 'bytes'], ['peak', 'Live at peak', 'bytes'],
        ['leaked_blocks', 'Leaked blocks', 'count'], ['leaked_bytes', 'Leaked bytes', 'bytes']],
      rows: data.threads,
    });
  }

  /* ---- the page ------------------------------------------------------------------ */

  const app = document.getElementById('app');
  const header = element('header', { class: 'top' }, [
    element('h1', { text: 'memscope: ' + (summary.program || summary.path || 'capture') }),
    element('div', { class: 'sub', text: (summary.path || '') + ' \u2014 ' + (summary.backend || '?') +
      ' backend, ' + timeText(summary.duration_ns) }),
  ]);
  const main = element('main');
  app.replaceChildren(header, main);
  document.body.appendChild(panel);
  document.body.appendChild(tooltip);

  drawNotices();
  drawSummary();
  drawFindings();
  drawChart();
  drawFlame();
  drawResults();
  drawThreads();

  /* ---- self-test -------------------------------------------------------------------- */

  function selfTest() {
    for (const node of document.querySelectorAll('#summary [data-field]')) {
      const text = node.textContent;
      /* Blocks and bytes are estimates when sampled; threads are counted. */
      const estimate = estimated && node.dataset.field !== 'threads';
      if (estimate !== text.startsWith('~'))
        return node.dataset.field + ' shows ' + text + (estimate ? ', not marked as an estimate' : ', marked as an estimate');
      const shown = Number(text.replace(/^~/, '').split(' ')[0].replace(/,/g, ''));
      const expected = summary[node.dataset.field];
      if (shown !== expected) return node.dataset.field + ' shows ' + shown + ', data has ' + expected;
    }
    if (document.querySelectorAll('#summary [data-field]').length < 6) return 'summary cards missing';
    const notice = document.getElementById('sampling-notice');
    if (estimated && (!notice || !notice.textContent.includes(intervalText(sampling.interval))))
      return 'the sampling notice is missing';
    if (!estimated && notice) return 'a sampling notice on a capture that was not sampled';
    if (trackingWarns !== Boolean(document.getElementById('tracking-warning')))
      return trackingWarns ? 'the tracking warning is missing' : 'a tracking warning on a complete record';
    if (tracking && !document.getElementById('tracking-card')) return 'the tracking card is missing';
    if (document.querySelectorAll('#flame svg rect').length === 0) return 'flame graph has no rects';
    if (data.timeline.length > 0 && document.querySelectorAll('#chart polyline').length === 0)
      return 'chart has no lines';
    for (const result of data.results) {
      const tables = document.querySelectorAll('#analyzer-' + result.analyzer + ' tbody');
      result.tables.forEach((table, i) => {
        if (table.rows.length > 0 && (!tables[i] || tables[i].rows.length === 0))
          throw new Error('table ' + table.name + ' has no rows');
      });
    }
    const hotspots = data.results.find(result => result.analyzer === 'hotspots');
    if (hotspots && hotspots.tables.some(table => table.rows.length > 0 && table.columns.some(c => c[2] === 'stack'))) {
      const row = document.querySelector('#analyzer-hotspots tr.clickable');
      if (!row) return 'no clickable hotspot row';
      row.click();
      const table = hotspots.tables.find(t => t.rows.length > 0 && t.columns.some(c => c[2] === 'stack'));
      const stackId = table.rows[0][table.columns.findIndex(c => c[2] === 'stack')];
      const frames = data.stacks[stackId] || [];
      const first = panel.querySelector('.function');
      if (!document.body.classList.contains('panel-open')) return 'stack panel did not open';
      if (frames.length > 0 && (!first || !first.textContent.startsWith(frameName(frames[0]))))
        return 'stack panel shows ' + (first ? first.textContent : 'nothing') + ', expected ' + frameName(frames[0]);
    }
    /* Zoom the chart by dragging over its middle, then reset it. */
    const chart = document.querySelector('#chart svg');
    if (chart) {
      const full = chart.dataset.view;
      const box = chart.getBoundingClientRect();
      const at = (type, share) => new MouseEvent(type, { bubbles: true,
        clientX: box.left + box.width * share, clientY: box.top + box.height / 2 });
      chart.dispatchEvent(at('mousedown', 0.4));
      chart.dispatchEvent(at('mousemove', 0.7));
      chart.dispatchEvent(at('mouseup', 0.7));
      if (chart.dataset.view === full) return 'dragging did not zoom the chart';
      chart.dispatchEvent(at('dblclick', 0.5));
      if (chart.dataset.view !== full) return 'double-click did not reset the chart';
      hideTooltip();
    }
    /* Zoom the flame graph into a frame and back. */
    const flame = document.querySelector('#flame svg');
    const child = flame && flame.querySelectorAll('rect')[1];
    if (child) {
      child.dispatchEvent(new MouseEvent('click', { bubbles: true }));
      if (flame.dataset.focus !== child.dataset.node) return 'clicking a frame did not zoom to it';
      flame.querySelector('rect').dispatchEvent(new MouseEvent('click', { bubbles: true }));
      if (flame.dataset.focus !== '0') return 'clicking "all" did not reset the flame graph';
    }
    return 'pass';
  }

  if (location.hash === '#selftest') {
    let verdict;
    try {
      verdict = selfTest();
      if (verdict !== 'pass') verdict = 'fail: ' + verdict;
    } catch (error) {
      verdict = 'fail: ' + error.message;
    }
    document.body.dataset.selftest = verdict;
  }
})();
