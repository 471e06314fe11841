/* page.js - the memscope HTML report: draws the page from the JSON island
 * that exporters/html.c writes (id "memscope-data").  Plain DOM and SVG, no
 * libraries, no network: the page's Content-Security-Policy forbids it.
 *
 * Data layout (version 2):
 *   summary   the capture's totals, as memscope_summary (version 1's fields, peak_blocks and death), and
 *             accuracy {allocations, reallocations, frees, peak, live}: "exact",
 *             "estimated" or "mixed" for each of those figures (the json exporter's)
 *   sampling  {interval, estimated, interval_min, interval_max, interval_changes,
 *             exact_above} when a sampling backend wrote the capture, else null;
 *             estimated: every count and byte below is an estimate (but for the
 *             blocks of exact_above bytes or more, when not 0: all recorded)
 *   tracking  {attempts, successes, misses, waits, growths, completeness,
 *             contention_rate, warning_below} when the backend's counters were
 *             recorded, else null
 *   flame     [[parent, kind, name, file, line, bytes, count, peak, leaked]],
 *             parents first; kind 0 function, 1 module only, 2 "other"
 *   results   [{analyzer, findings: [[severity, text]],
 *               tables: [{name, title, total_rows, columns: [[name, title, type]],
 *                         rows: [[...]]}]}]; a text column named "accuracy" is the
 *             accuracy of the row's figures (its count and bytes columns: those
 *             titled "(est.)" when the analyzer marked any)
 *   stacks    {"id": [[function, file, line, module, offset, inlined]]}, innermost first
 *   threads   [[index, name, blocks, bytes, peak_bytes, leaked_blocks, leaked_bytes,
 *              accuracy]]
 *   timeline  [[time_ns, heap_live, rss, jemalloc_active, jemalloc_resident]]; the
 *             summary's peak is one of its points (rss and jemalloc's there repeat
 *             the sample before: they are measured every 10 ms only)
 *   tasks     only when the capture has tasks (exporters/html.c describes it):
 *             {columns: [field names], rows: [[id, parent, name, origin, ...,
 *               accuracy, leaks: [[stack, blocks, bytes, accuracy]]]], series_limit, series_points,
 *              series: [[task, origin_ns, width_ns, [bucket, high, last, ...]]] or null}
 *
 * Figures carry their accuracy as the text report's do: "~" before an
 * estimate, "~" and a "mixed" badge (its tooltip: part exact, part
 * estimated) on a mixed one, nothing on an exact one or on 0.
 *
 * "#task-ID" in the URL opens that task in the task panel.
 * With "#selftest" in the URL the page checks itself after drawing and
 * records the verdict in document.body.dataset.selftest.
 */
(function () {
  'use strict';

  const SVG_NS = 'http://www.w3.org/2000/svg';
  const TABLE_ROWS_SHOWN = 300;
  const data = JSON.parse(document.getElementById('memscope-data').textContent);
  const summary = data.summary;
  /* What the blocks live at the end are: leaks only when the program ended cleanly. */
  const LEAKED_LABEL = summary.ended_cleanly ? 'Leaked' : summary.death ? 'Live at death' : 'Live at end';
  const sampling = data.sampling || null;
  const tracking = data.tracking || null;
  /* Estimates carry a "~" wherever they are shown, as in the text report. */
  const estimated = Boolean(sampling && sampling.estimated);
  const mark = estimated ? '~' : '';
  const trackingWarns = Boolean(tracking && tracking.completeness < tracking.warning_below);
  const MIXED_TITLE = 'mixed: part exact, part estimated';

  /* "exact", "estimated" or "mixed" as the island says; an island without
   * accuracies has the capture's sampling alone to go by. */
  function accuracyOf(value) {
    if (value === 'exact' || value === 'estimated' || value === 'mixed') return value;
    return estimated ? 'estimated' : 'exact';
  }

  function summaryAccuracy(figure) {
    return accuracyOf(summary.accuracy ? summary.accuracy[figure] : undefined);
  }

  /* What goes before a figure: "~" unless it is exact, or 0 (no block is
   * behind it). */
  function markOf(accuracy, value) {
    return accuracy === 'exact' || value === 0 ? '' : '~';
  }

  /* The badge after a mixed figure, or nothing. */
  function accuracyBadge(accuracy) {
    if (accuracy !== 'mixed') return null;
    return element('span', { class: 'badge mixed', text: 'mixed', title: MIXED_TITLE });
  }

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

  /* accuracy (of value and detail, when they are figures): a mixed one
   * puts a badge after the label. */
  function card(label, value, detail, field, bad, accuracy) {
    const detailNode = element('div', { class: 'detail', text: detail || '' });
    const valueNode = element('div', { class: 'value', text: value });
    /* The exact number goes where the self-test can read it. */
    if (field) (detail ? detailNode : valueNode).dataset.field = field;
    const labelNode = element('div', { class: 'label', text: accuracy === 'mixed' ? label + ' ' : label },
      [accuracyBadge(accuracy)]);
    return element('div', { class: 'card' + (bad ? ' bad' : '') }, [labelNode, valueNode, detailNode]);
  }

  /* figure (a number) with its mark, as text says it: the figure's own
   * accuracy, from the summary's. */
  function figureText(figure, value, text) {
    return markOf(summaryAccuracy(figure), value) + text;
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
    const leakedLabel = LEAKED_LABEL;
    /* Its detail is another count: the exact number is its value. */
    const allocations = card('Allocations', figureText('allocations', summary.allocations, grouped(summary.allocations)),
      summary.reallocations ? figureText('reallocations', summary.reallocations,
        grouped(summary.reallocations)) + ' resized in place' : '', null, false, summaryAccuracy('allocations'));
    allocations.querySelector('.value').dataset.field = 'allocations';
    const figureCard = (label, figure, value, text, detail, field, bad) =>
      card(label, figureText(figure, value, text), detail === '' ? '' : figureText(figure, value, detail),
        field, bad, summaryAccuracy(figure));
    const cards = element('div', { class: 'cards' }, [
      allocations,
      figureCard('Frees', 'frees', summary.frees, grouped(summary.frees), '', 'frees'),
      figureCard('Bytes allocated', 'allocations', summary.allocated_bytes, bytesText(summary.allocated_bytes),
        grouped(summary.allocated_bytes) + ' bytes', 'allocated_bytes'),
      figureCard('Peak', 'peak', summary.peak_bytes, bytesText(summary.peak_bytes),
        grouped(summary.peak_bytes) + ' bytes at ' + timeText(summary.peak_time_ns), 'peak_bytes'),
      figureCard(leakedLabel + ' blocks', 'live', summary.live_blocks, grouped(summary.live_blocks), '', 'live_blocks',
        summary.ended_cleanly && summary.live_blocks > 0),
      figureCard(leakedLabel + ' bytes', 'live', summary.live_bytes, bytesText(summary.live_bytes),
        grouped(summary.live_bytes) + ' bytes', 'live_bytes',
        summary.ended_cleanly && summary.live_bytes > 0),
      card('Duration', timeText(summary.duration_ns), '', null),
      card('Threads', grouped(summary.threads), '', 'threads'),
      card('Backend', summary.backend || '?', summary.truncated ? 'capture cut short' :
        summary.ended_cleanly ? 'ended cleanly' : summary.death || 'no trailer', null),
    ]);
    if (sampling) {
      const moved = sampling.interval_changes > 0 ?
        ' (' + intervalText(sampling.interval_min) + ' to ' + intervalText(sampling.interval_max) +
        ', moved ' + counted(sampling.interval_changes, 'time') + ' to keep to an event budget)' : '';
      const exact = sampling.exact_above > 1 ?
        '; every block of ' + bytesText(sampling.exact_above) + ' or more recorded, exactly' : '';
      cards.appendChild(estimated ?
        card('Sample interval', intervalText(sampling.interval),
          'allocated per sample on average (Poisson)' + moved + ': figures are estimates' + exact, null) :
        card('Sampling', 'none', 'every allocation recorded: figures are counts', null));
    }
    if (tracking) {
      const attempts = tracking.attempts || 1;
      const tracked = card('Recorded', percentDown(tracking.completeness),
        grouped(tracking.successes) + ' of ' + grouped(tracking.attempts) + ' events, ' +
        grouped(tracking.misses) + ' dropped; drop rate ' + (tracking.misses / attempts * 100).toFixed(2) +
        '%, contention rate ' + (tracking.contention_rate * 100).toFixed(2) + '% (' +
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

  /* A sortable, filterable table of typed columns, shown a page of rows at
   * a time; rows with a stack open it in the side panel, or call
   * options.onSelect(row, index).  A column is [name, title, type], or an
   * object {name, title, type, index, text, sortValue, search} that reads
   * row[index] and may show text(row) and sort by sortValue(row); text
   * columns and those with search are what the filter looks in.  Options:
   * caption, id (of the table's box), sort {column, ascending}, onSelect,
   * rowKey(row) (the row's data-key), fields (cells carry data-field).
   * A column of type "accuracy" (the last) holds the accuracy of the row's
   * figures, the columns with figure set: they are marked as it says, and
   * it shows as a badge, or not at all when every row is exact.
   * Returns {show(index)}: turns to the row's page and selects it. */
  function drawTable(parent, table, options) {
    options = options || {};
    const allColumns = table.columns.map((column, c) => Array.isArray(column) ?
      { name: column[0], title: column[1], type: column[2], index: c } :
      Object.assign({ index: c }, column));
    const accuracyColumn = allColumns.find(column => column.type === 'accuracy');
    const rowAccuracy = row => accuracyColumn ? accuracyOf(row[accuracyColumn.index]) : 'exact';
    const allExact = table.rows.every(row => rowAccuracy(row) === 'exact');
    const columns = allColumns.filter(column => column.type !== 'accuracy' || !allExact);
    const stackColumn = columns.findIndex(column => column.type === 'stack');
    const numeric = type => type === 'bytes' || type === 'count' || type === 'time' || type === 'ratio';
    const accuracyText = accuracy => accuracy === 'exact' ? '' : accuracy;
    const cellText = (column, row) => {
      if (column.type === 'accuracy') return accuracyText(rowAccuracy(row));
      const text = column.text ? column.text(row) : valueText(column.type, row[column.index]);
      return column.figure ? markOf(rowAccuracy(row), row[column.index]) + text : text;
    };
    const wrap = element('div', { class: 'table-wrap' });
    if (options.id) wrap.id = options.id;
    const filter = element('input', { class: 'filter', type: 'search', placeholder: 'filter rows' });
    const note = element('span', { class: 'note' });
    const previous = element('button', { class: 'pager', text: '\u2039 previous' });
    const next = element('button', { class: 'pager', text: 'next \u203a' });
    parent.appendChild(element('h3', { text: table.title || table.name }));
    parent.appendChild(element('div', { class: 'toolbar' }, [filter, note, previous, next]));
    parent.appendChild(wrap);
    if (options.caption) parent.appendChild(element('p', { class: 'note', text: options.caption }));

    /* What the filter looks in, made when it is first used: a table of
     * 100k rows costs nothing until then. */
    let searchText = null;
    function searchable() {
      if (!searchText) {
        searchText = table.rows.map(row => columns.map(column =>
          column.type === 'text' || column.type === 'accuracy' || column.search ? String(cellText(column, row) || '') :
            column.type === 'stack' ? (data.stacks[row[column.index]] || []).map(frameName).join(' ') : '')
          .join(' ').toLowerCase());
      }
      return searchText;
    }
    let sortColumn = options.sort ? options.sort.column : -1;
    let ascending = options.sort ? Boolean(options.sort.ascending) : false;
    let page = 0;
    const headRow = element('tr');
    columns.forEach((column, c) => {
      const th = element('th', { text: column.title || column.name, class: numeric(column.type) ? 'num' : '' });
      th.addEventListener('click', () => {
        ascending = sortColumn === c ? !ascending : !numeric(column.type);
        sortColumn = c;
        page = 0;
        render();
      });
      headRow.appendChild(th);
    });
    const body = element('tbody');
    wrap.appendChild(element('table', {}, [element('thead', {}, [headRow]), body]));
    let selected = null;
    let selectedIndex = -1;
    let order = [];

    function select(tr, index) {
      if (selected) selected.classList.remove('selected');
      selected = tr;
      selectedIndex = index;
      if (tr) tr.classList.add('selected');
      const row = table.rows[index];
      if (options.onSelect) {
        options.onSelect(row, index);
        return;
      }
      showStack(row[columns[stackColumn].index], (table.title || table.name) + ': ' +
        columns.filter(column => column.type !== 'stack' && column.type !== 'text')
          .map(column => (column.title || column.name) + ' ' + cellText(column, row))
          .join(', '));
    }

    function sortOrder() {
      const words = filter.value.trim().toLowerCase();
      order = table.rows.map((row, index) => index);
      if (words) {
        const text = searchable();
        order = order.filter(index => text[index].includes(words));
      }
      if (sortColumn >= 0) {
        const column = columns[sortColumn];
        /* One key per row, not one per comparison. */
        const keys = new Array(table.rows.length);
        for (const index of order) {
          const row = table.rows[index];
          const value = column.sortValue ? column.sortValue(row) : row[column.index];
          keys[index] = column.type === 'stack' ? stackLabel(value) : value === null ? '' : value;
        }
        order.sort((a, b) => {
          const left = keys[a], right = keys[b];
          const compared = left < right ? -1 : left > right ? 1 : 0;
          return ascending ? compared : -compared;
        });
      }
      return words;
    }

    function render() {
      const words = sortOrder();
      headRow.childNodes.forEach((th, c) => {
        th.classList.toggle('sorted-up', c === sortColumn && ascending);
        th.classList.toggle('sorted-down', c === sortColumn && !ascending);
      });
      const pages = Math.max(1, Math.ceil(order.length / TABLE_ROWS_SHOWN));
      page = Math.min(page, pages - 1);
      const start = page * TABLE_ROWS_SHOWN;
      const shown = order.slice(start, start + TABLE_ROWS_SHOWN);
      const fragment = document.createDocumentFragment();
      selected = null;
      for (const index of shown) {
        const row = table.rows[index];
        const tr = element('tr');
        if (options.rowKey) tr.dataset.key = options.rowKey(row);
        const accuracy = rowAccuracy(row);
        columns.forEach(column => {
          const value = row[column.index];
          const td = column.type === 'accuracy' ?
            element('td', { class: 'accuracy', text: accuracy === 'estimated' ? 'estimated' : '' },
              [accuracyBadge(accuracy)]) :
            element('td', { text: cellText(column, row),
              class: numeric(column.type) ? 'num' : column.type === 'stack' ? 'stack' : '' });
          if (column.type === 'bytes' && value !== null && value !== undefined) td.title = grouped(value) + ' bytes';
          if (column.figure && accuracy === 'mixed' && value !== 0) {
            td.classList.add('mixed');
            td.title = (td.title || grouped(value)) + ' (' + MIXED_TITLE + ')';
          }
          if (options.fields) td.dataset.field = column.name;
          tr.appendChild(td);
        });
        if (stackColumn >= 0 || options.onSelect) {
          tr.classList.add('clickable');
          tr.addEventListener('click', () => select(tr, index));
        }
        if (index === selectedIndex) {
          selected = tr;
          tr.classList.add('selected');
        }
        fragment.appendChild(tr);
      }
      body.replaceChildren(fragment);
      const total = table.total_rows || table.rows.length;
      const held = total > table.rows.length ?
        ' (the report holds the first ' + grouped(table.rows.length) + ' of ' + grouped(total) + ')' : '';
      if (pages > 1) {
        note.textContent = 'rows ' + grouped(start + 1) + '\u2013' + grouped(start + shown.length) + ' of ' +
          grouped(order.length) + (words ? ' matching' : '') + held;
      } else {
        note.textContent = 'showing ' + shown.length + ' of ' + grouped(order.length) +
          (words ? ' matching' : '') + ' rows' + held;
      }
      previous.style.display = next.style.display = pages > 1 ? '' : 'none';
      previous.disabled = page === 0;
      next.disabled = page >= pages - 1;
    }
    filter.addEventListener('input', () => { page = 0; render(); });
    previous.addEventListener('click', () => { page--; render(); });
    next.addEventListener('click', () => { page++; render(); });
    render();

    return {
      show(index) {
        let at = order.indexOf(index);
        if (at < 0) {
          filter.value = '';
          sortOrder();
          at = order.indexOf(index);
        }
        if (at < 0) return;
        page = Math.floor(at / TABLE_ROWS_SHOWN);
        selectedIndex = index;
        render();
        select(selected, index);
      },
    };
  }

  const ANALYZER_TITLES = {
    leaks: 'Leaks',
    hotspots: 'Hotspots',
    fragmentation: 'Fragmentation',
  };

  /* An analyzer table's columns for drawTable: its "accuracy" column, and
   * the figures it speaks of, the count and bytes columns (those titled
   * "(est.)", when the analyzer marked any: a size class's usable size is
   * no figure). */
  function analyzerColumns(table) {
    const estimateTitle = title => / \(est\.\)$/.test(title || '');
    const marked = table.columns.some(column => estimateTitle(column[1]));
    return table.columns.map(([name, title, type], index) => {
      if (name === 'accuracy' && type === 'text') return { name, title, type: 'accuracy', index };
      const figure = (type === 'count' || type === 'bytes') && (!marked || estimateTitle(title));
      return { name, title, type, index, figure };
    });
  }

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
      for (const table of result.tables)
        drawTable(box, Object.assign({}, table, { columns: analyzerColumns(table) }));
    }
  }

  function drawThreads() {
    if (!data.threads || data.threads.length === 0) return;
    const box = section('threads', 'Threads');
    const figure = (name, title, type) => ({ name, title, type, figure: true });
    drawTable(box, {
      name: 'threads', title: 'Blocks and bytes per allocating thread' + (estimated ? ' (estimated)' : ''),
      columns: [['thread', 'Thread', 'count'], ['name', 'Name', 'text'], figure('blocks', 'Blocks', 'count'),
        figure('bytes', 'Bytes', 'bytes'), figure('peak', 'Live at peak', 'bytes'),
        figure('leaked_blocks', 'Leaked blocks', 'count'), figure('leaked_bytes', 'Leaked bytes', 'bytes'),
        ['accuracy', 'Accuracy', 'accuracy']],
      rows: data.threads,
    });
  }

  /* ---- tasks ------------------------------------------------------------------ */

  const tasks = data.tasks || null;
  /* A row's fields by name, as the island's tasks.columns lists them. */
  const TASK = {};
  if (tasks) tasks.columns.forEach((name, index) => { TASK[name] = index; });
  let taskTable = null;
  const taskRowOf = new Map();
  const seriesOf = new Map();

  function taskName(row) {
    return row[TASK.name] || 'task ' + row[TASK.id];
  }

  function threadName(index) {
    const thread = data.threads && data.threads[index];
    return thread && thread[0] === index ? thread[1] : 'thread ' + index;
  }

  /* The program's own name for the task: a thread's tid, a coroutine's
   * context address, an annotation's id. */
  function keyText(row) {
    const key = row[TASK.key];
    if (!key) return '';
    if (row[TASK.origin] === 'ucontext') return 'context 0x' + key.toString(16);
    return (row[TASK.origin] === 'thread' ? 'tid ' : 'id ') + key;
  }

  function lifetimeText(row) {
    const begin = timeText(row[TASK.begin_ns]);
    if (!row[TASK.ended]) return begin + ' \u2192 still running';
    const end = timeText(row[TASK.end_ns]);
    /* A short task's ends round alike: say how long it ran. */
    return begin + ' \u2192 ' + end + (end === begin ? ' (' + timeText(row[TASK.end_ns] - row[TASK.begin_ns]) + ')' : '');
  }

  /* A task's live bytes: a step line through its buckets, each drawn from
   * its highest value down to its last, on an axis from the task's begin
   * to its end, or later when its blocks outlive it. */
  function drawTaskChart(parent, row, series) {
    const [, origin, width, flat] = series;
    const begin = row[TASK.begin_ns];
    let end = Math.max(row[TASK.end_ns], begin + 1);
    let top = 1;
    for (let i = 0; i < flat.length; i += 3) {
      end = Math.max(end, origin + (flat[i] + 1) * width);
      top = Math.max(top, flat[i + 1]);
    }
    if (row[TASK.leaked_bytes] > 0) end = Math.max(end, summary.duration_ns);
    const svg = svgElement('svg', { class: 'chart task-chart' });
    parent.appendChild(svg);
    const height = 170;
    const margin = { left: 78, right: 34, top: 16, bottom: 24 };
    const plotWidth = Math.max(svg.clientWidth || 900, 300);
    svg.setAttribute('viewBox', '0 0 ' + plotWidth + ' ' + height);
    const step = byteStep(top, 3);
    top = Math.ceil(top / step) * step;
    const plotBottom = height - margin.bottom;
    const xOf = t => margin.left + (Math.min(t, end) - begin) / (end - begin) * (plotWidth - margin.left - margin.right);
    const yOf = value => plotBottom - value / top * (plotBottom - margin.top);
    for (let value = 0; value <= top; value += step) {
      const y = yOf(value);
      svg.appendChild(svgElement('line', { class: 'grid', x1: margin.left, x2: plotWidth - margin.right, y1: y, y2: y }));
      const label = svgElement('text', { x: margin.left - 6, y: y + 4, 'text-anchor': 'end' });
      label.textContent = bytesText(value);
      svg.appendChild(label);
    }
    const timeStep = niceStep(end - begin, Math.max(2, Math.floor(plotWidth / 130)));
    for (let t = Math.ceil(begin / timeStep) * timeStep; t <= end; t += timeStep) {
      const label = svgElement('text', { x: xOf(t), y: height - 6, 'text-anchor': 'middle' });
      label.textContent = timeText(t);
      svg.appendChild(label);
    }
    svg.appendChild(svgElement('line', { class: 'axis', x1: margin.left, x2: plotWidth - margin.right, y1: plotBottom, y2: plotBottom }));
    const points = [[begin, 0]];
    let level = 0;
    for (let i = 0; i < flat.length; i += 3) {
      const from = Math.max(origin + flat[i] * width, begin);
      points.push([from, level], [from, flat[i + 1]], [Math.min(from + width, end), flat[i + 2]]);
      level = flat[i + 2];
    }
    points.push([end, level]);
    const text = points.map(([t, value]) => xOf(t).toFixed(1) + ',' + yOf(value).toFixed(1));
    svg.appendChild(svgElement('polygon', { class: 'area',
      points: xOf(begin).toFixed(1) + ',' + plotBottom + ' ' + text.join(' ') + ' ' + xOf(end).toFixed(1) + ',' + plotBottom }));
    svg.appendChild(svgElement('polyline', { class: 'series', points: text.join(' '), fill: 'none',
      stroke: 'var(--heap)', 'stroke-width': 1.6 }));
    if (row[TASK.ended] && row[TASK.end_ns] < end) {
      const x = xOf(row[TASK.end_ns]);
      svg.appendChild(svgElement('line', { class: 'ended', x1: x, x2: x, y1: margin.top, y2: plotBottom }));
      const label = svgElement('text', { x: x + 4, y: plotBottom - 6 });
      label.textContent = 'task ended';
      svg.appendChild(label);
    }
    if (row[TASK.peak_bytes] > 0) {
      const x = xOf(row[TASK.peak_time_ns]);
      svg.appendChild(svgElement('line', { class: 'peak', x1: x, x2: x, y1: margin.top, y2: plotBottom }));
      const label = svgElement('text', { x: x + 4, y: margin.top - 4 });
      label.textContent = 'peak ' + bytesText(row[TASK.peak_bytes]) + ' at ' + timeText(row[TASK.peak_time_ns]);
      svg.appendChild(label);
    }
    svg.dataset.points = flat.length / 3;
    svg.addEventListener('mousemove', event => {
      const box = svg.getBoundingClientRect();
      const x = (event.clientX - box.left) * (plotWidth / box.width);
      const t = begin + (x - margin.left) / (plotWidth - margin.left - margin.right) * (end - begin);
      let found = -1;
      for (let i = 0; i < flat.length; i += 3) if (origin + flat[i] * width <= t) found = i;
      if (found < 0) {
        showTooltip(event, timeText(Math.max(t, begin)) + '\nnothing live yet');
        return;
      }
      const from = origin + flat[found] * width;
      showTooltip(event, timeText(from) + ' \u2013 ' + timeText(from + width) + '\nhighest ' +
        bytesText(flat[found + 1]) + ', then ' + bytesText(flat[found + 2]) + ' live');
    });
    svg.addEventListener('mouseleave', hideTooltip);
  }

  const taskDetail = element('div', { id: 'task-detail' });

  function showTask(row) {
    const id = row[TASK.id];
    const leakedLabel = LEAKED_LABEL;
    const parentIndex = taskRowOf.get(row[TASK.parent]);
    const parentNode = element('span', {});
    if (parentIndex !== undefined) {
      const parentRow = tasks.rows[parentIndex];
      const link = element('button', { class: 'link', text: taskName(parentRow) + ' (task ' + parentRow[TASK.id] + ')' });
      link.addEventListener('click', () => taskTable.show(parentIndex));
      parentNode.append('child of ', link, '; ');
    }
    const threads = row[TASK.threads].map(threadName).join(', ') || 'none';
    const facts = element('p', { class: 'note facts' }, [
      document.createTextNode(row[TASK.origin] + ' task, '), parentNode,
      document.createTextNode('began on ' + threadName(row[TASK.began_on]) + ', ran on ' + threads + '; ' +
        lifetimeText(row) + '; ' + counted(row[TASK.children], 'child task') +
        (row[TASK.key] ? '; ' + keyText(row) : '')),
    ]);
    /* The task's figures, marked as its accuracy says. */
    const accuracy = accuracyOf(row[TASK.accuracy]);
    const figure = (name, text) => markOf(accuracy, row[TASK[name]]) + text(row[TASK[name]]);
    const taskCard = (label, value, detail, bad) => card(label, value, detail, null, bad,
      value.startsWith('~') || detail.startsWith('~') ? accuracy : 'exact');
    const cards = element('div', { class: 'cards' }, [
      taskCard('Allocations', figure('allocations', grouped), figure('allocated_bytes', bytesText)),
      taskCard('Frees', figure('frees', grouped), figure('freed_bytes', bytesText)),
      taskCard('Freed by others', figure('freed_by_others', grouped), figure('freed_by_others_bytes', bytesText) +
        ' of its blocks, freed by other tasks'),
      taskCard('Freed of others', figure('freed_of_others', grouped), figure('freed_of_others_bytes', bytesText) +
        ' of other tasks\' blocks'),
      taskCard('Peak', figure('peak_bytes', bytesText), figure('peak_bytes', grouped) + ' bytes at ' +
        timeText(row[TASK.peak_time_ns])),
      row[TASK.ended] ? taskCard('Live when it ended', figure('live_at_end_bytes', bytesText),
        figure('live_at_end_blocks', value => counted(value, 'block'))) : null,
      taskCard(leakedLabel, figure('leaked_bytes', bytesText), figure('leaked_blocks', value => counted(value, 'block')),
        summary.ended_cleanly && row[TASK.leaked_bytes] > 0),
    ]);
    const chartBox = element('div', { class: 'task-chart-box' }, [element('h3', { text: 'Its blocks\' live bytes over time' })]);
    const leakBox = element('div', { class: 'task-leaks' });
    taskDetail.replaceChildren(element('h3', { class: 'task-title', text: taskName(row) + ' (task ' + id + ')' }),
      facts, cards, chartBox, leakBox);
    taskDetail.dataset.task = id;

    const series = seriesOf.get(id);
    if (series) {
      drawTaskChart(chartBox, row, series);
    } else {
      chartBox.appendChild(element('p', { class: 'note no-series', text: tasks.series === null ?
        'No chart: the capture gives no heap events to replay.' :
        'No chart: the page keeps live bytes over time for the ' + tasks.series_limit +
        ' tasks with the highest peaks, and this one (peak ' + bytesText(row[TASK.peak_bytes]) + ') is not among them.' }));
    }
    const leaks = row[TASK.leaks];
    if (leaks.length === 0) {
      leakBox.appendChild(element('h3', { text: leakedLabel + ' by stack' }));
      leakBox.appendChild(element('p', { class: 'note no-leaks', text: summary.ended_cleanly ?
        'No leaks: every block this task allocated was freed.' :
        summary.death ? 'None of its blocks was live when the program died.' : 'None of its blocks was live at the end.' }));
    } else {
      drawTable(leakBox, {
        name: 'task_leaks', title: leakedLabel + ' by stack: blocks this task allocated that were never freed',
        columns: [['stack', 'Allocated at', 'stack'], { name: 'blocks', title: 'Blocks', type: 'count', figure: true },
          { name: 'bytes', title: 'Bytes', type: 'bytes', figure: true }, ['accuracy', 'Accuracy', 'accuracy']],
        rows: leaks,
      });
    }
  }

  function drawTasks() {
    if (!tasks) return;
    tasks.rows.forEach((row, index) => taskRowOf.set(row[TASK.id], index));
    for (const series of tasks.series || []) seriesOf.set(series[0], series);
    const box = section('tasks', 'Tasks');
    const leakedLabel = LEAKED_LABEL;
    const field = (name, title, type, extra) => Object.assign({ name: name, title: title, type: type, index: TASK[name] }, extra || {});
    const columns = [
      field('name', 'Task', 'text', { text: taskName }),
      field('origin', 'Origin', 'text'),
      field('id', 'ID / parent', 'count', { search: true,
        text: row => row[TASK.id] + ' / ' + (row[TASK.parent] ? row[TASK.parent] : '\u2014') }),
      field('threads', 'Threads', 'text', { text: row => row[TASK.threads].map(threadName).join(', '),
        sortValue: row => row[TASK.threads].length }),
      field('allocations', 'Allocations', 'count', { figure: true }),
      field('allocated_bytes', 'Allocated', 'bytes', { figure: true }),
      field('frees', 'Frees', 'count', { figure: true }),
      field('freed_bytes', 'Freed', 'bytes', { figure: true }),
      field('freed_by_others_bytes', 'Freed by others', 'bytes', { figure: true }),
      field('freed_of_others_bytes', 'Freed of others', 'bytes', { figure: true }),
      field('peak_bytes', 'Peak', 'bytes', { figure: true }),
      field('leaked_blocks', leakedLabel + ' blocks', 'count', { figure: true }),
      field('leaked_bytes', leakedLabel + ' bytes', 'bytes', { figure: true }),
      field('begin_ns', 'Lifetime', 'time', { text: lifetimeText }),
      field('accuracy', 'Accuracy', 'accuracy'),
    ];
    box.appendChild(element('p', { class: 'note', text: counted(tasks.rows.length, 'task') +
      '. A block belongs to the task that allocated it: its free counts against that task whichever task ' +
      'makes it (freed by others on the owner, freed of others on the one that freed it). Click a task ' +
      'for its leaks by stack and its live bytes over time.' }));
    taskTable = drawTable(box, { name: 'tasks', title: 'Tasks by peak bytes', columns: columns, rows: tasks.rows }, {
      id: 'task-list',
      sort: { column: columns.findIndex(column => column.name === 'peak_bytes'), ascending: false },
      rowKey: row => row[TASK.id],
      fields: true,
      onSelect: showTask,
    });
    taskDetail.replaceChildren(element('p', { class: 'note', text: 'Click a task above to see its leaks by stack and its live bytes over time.' }));
    box.appendChild(taskDetail);
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
  drawTasks();
  /* "#task-ID" opens that task's panel. */
  const wanted = /^#task-(\d+)$/.exec(location.hash);
  if (wanted && taskRowOf.has(Number(wanted[1]))) {
    taskTable.show(taskRowOf.get(Number(wanted[1])));
    document.getElementById('tasks').scrollIntoView();
  }

  /* ---- self-test -------------------------------------------------------------------- */

  /* The task panel: its rows show the island's numbers, sorting and paging
   * work, and clicking a task shows its leaks by stack and its chart. */
  function selfTestTasks() {
    const box = document.getElementById('tasks');
    if (!tasks) return box ? 'a task panel on a capture without tasks' : null;
    if (!box) return 'no task panel';
    const rows = () => Array.from(document.querySelectorAll('#task-list tbody tr'));
    const shown = rows();
    if (shown.length !== Math.min(tasks.rows.length, TABLE_ROWS_SHOWN))
      return 'the task table shows ' + shown.length + ' rows of ' + tasks.rows.length;
    /* Sorted by peak, then id: the order the series were chosen in. */
    for (let i = 1; i < shown.length; i++) {
      const before = tasks.rows[taskRowOf.get(Number(shown[i - 1].dataset.key))];
      const after = tasks.rows[taskRowOf.get(Number(shown[i].dataset.key))];
      if (before[TASK.peak_bytes] < after[TASK.peak_bytes]) return 'the task table is not sorted by peak';
    }
    if (tasks.series && tasks.series.length > 0 && Number(shown[0].dataset.key) !== tasks.series[0][0])
      return 'the first task is ' + shown[0].dataset.key + ', the highest peak is ' + tasks.series[0][0];
    for (const tr of shown.slice(0, 50)) {
      const row = tasks.rows[taskRowOf.get(Number(tr.dataset.key))];
      for (const td of tr.querySelectorAll('[data-field]')) {
        const name = td.dataset.field;
        const expected = row[TASK[name]];
        if (name === 'name' && td.textContent !== taskName(row)) return 'task ' + row[TASK.id] + ' is called ' + td.textContent;
        if (name === 'id' && td.textContent !== expected + ' / ' + (row[TASK.parent] || '\u2014'))
          return 'task ' + expected + ' shows its id and parent as ' + td.textContent;
        if (typeof expected !== 'number' || name === 'id' || name === 'begin_ns') continue;
        const shownValue = Number((td.title || td.textContent).replace(/^~/, '').split(' ')[0].replace(/,/g, ''));
        if (shownValue !== expected) return 'task ' + row[TASK.id] + ' shows ' + name + ' ' + shownValue + ', data has ' + expected;
        if (td.textContent.startsWith('~') !== (markOf(accuracyOf(row[TASK.accuracy]), expected) === '~'))
          return 'task ' + row[TASK.id] + ' shows ' + name + ' as ' + td.textContent + ', its figures are ' +
            accuracyOf(row[TASK.accuracy]);
      }
    }

    /* Click the first task with leaks and a chart, else the first. */
    const pick = shown.find(tr => {
      const row = tasks.rows[taskRowOf.get(Number(tr.dataset.key))];
      return row[TASK.leaks].length > 0 && seriesOf.has(row[TASK.id]);
    }) || shown[0];
    const row = tasks.rows[taskRowOf.get(Number(pick.dataset.key))];
    pick.click();
    if (!pick.classList.contains('selected')) return 'the clicked task is not marked';
    if (taskDetail.dataset.task !== String(row[TASK.id])) return 'clicking task ' + row[TASK.id] + ' did not show it';
    const title = taskDetail.querySelector('.task-title');
    if (!title || !title.textContent.startsWith(taskName(row))) return 'the task panel is titled ' + (title ? title.textContent : 'nothing');
    const leakRows = taskDetail.querySelectorAll('tbody tr');
    const leaks = row[TASK.leaks];
    if (leakRows.length !== Math.min(leaks.length, TABLE_ROWS_SHOWN))
      return 'task ' + row[TASK.id] + ' shows ' + leakRows.length + ' leak stacks of ' + leaks.length;
    if (leaks.length > 0) {
      const cell = leakRows[0].querySelector('td.stack');
      if (!cell || cell.textContent !== stackLabel(leaks[0][0]))
        return 'the first leak stack shows ' + (cell ? cell.textContent : 'nothing') + ', expected ' + stackLabel(leaks[0][0]);
      leakRows[0].click();
      const frames = data.stacks[leaks[0][0]] || [];
      const first = panel.querySelector('.function');
      if (!document.body.classList.contains('panel-open')) return 'a leak stack did not open the stack panel';
      if (frames.length > 0 && (!first || !first.textContent.startsWith(frameName(frames[0]))))
        return 'the leak stack panel shows ' + (first ? first.textContent : 'nothing');
    } else if (!taskDetail.querySelector('.no-leaks')) {
      return 'a task without leaks does not say so';
    }
    const chart = taskDetail.querySelector('svg.task-chart');
    if (seriesOf.has(row[TASK.id])) {
      const line = chart && chart.querySelector('polyline');
      if (!line || line.getAttribute('points').split(' ').length < 2) return 'task ' + row[TASK.id] + ' has no chart line';
      if (Number(chart.dataset.points) !== seriesOf.get(row[TASK.id])[3].length / 3) return 'the task chart lost points';
    } else if (chart || !taskDetail.querySelector('.no-series')) {
      return 'task ' + row[TASK.id] + ' has no series but its panel does not say so';
    }
    /* A task outside the charted ones says why it has no chart. */
    const uncharted = shown.find(tr => !seriesOf.has(Number(tr.dataset.key)));
    if (uncharted) {
      uncharted.click();
      const why = taskDetail.querySelector('.no-series');
      if (!why || (tasks.series && !why.textContent.includes(String(tasks.series_limit))))
        return 'task ' + uncharted.dataset.key + ' has no chart and does not say why';
    }

    /* Sort by leaked bytes, page on, filter by a name. */
    const header = Array.from(box.querySelectorAll('#task-list th')).find(th => th.textContent.endsWith(' bytes') &&
      th.textContent.startsWith(LEAKED_LABEL));
    header.click();
    const most = Math.max.apply(null, tasks.rows.map(r => r[TASK.leaked_bytes]));
    const top = tasks.rows[taskRowOf.get(Number(rows()[0].dataset.key))];
    if (top[TASK.leaked_bytes] !== most) return 'sorting by leaked bytes put ' + top[TASK.leaked_bytes] + ' first, not ' + most;
    const toolbar = box.querySelector('.toolbar');
    const next = toolbar.querySelectorAll('button.pager')[1];
    if (tasks.rows.length > TABLE_ROWS_SHOWN) {
      const firstKey = rows()[0].dataset.key;
      next.click();
      if (rows()[0].dataset.key === firstKey || !toolbar.querySelector('.note').textContent.startsWith('rows ' + grouped(TABLE_ROWS_SHOWN + 1)))
        return 'the next page of tasks did not show';
    } else if (next.style.display !== 'none') {
      return 'a pager on one page of tasks';
    }
    const last = tasks.rows[tasks.rows.length - 1];
    const filter = toolbar.querySelector('input.filter');
    filter.value = taskName(last);
    filter.dispatchEvent(new Event('input'));
    if (!rows().some(tr => tr.dataset.key === String(last[TASK.id]))) return 'filtering by "' + taskName(last) + '" did not find it';
    filter.value = '';
    filter.dispatchEvent(new Event('input'));
    return null;
  }

  /* The analyzers' rows: each figure marked as its row's accuracy says,
   * a badge on the mixed rows, nothing on tables whose rows are all exact. */
  function selfTestAccuracy() {
    for (const result of data.results) {
      const bodies = document.querySelectorAll('#analyzer-' + result.analyzer + ' tbody');
      result.tables.forEach((table, t) => {
        const columns = analyzerColumns(table);
        const accuracy = columns.find(column => column.type === 'accuracy');
        const rows = bodies[t] ? Array.from(bodies[t].rows) : [];
        if (!accuracy) return;
        const allExact = table.rows.every(row => accuracyOf(row[accuracy.index]) === 'exact');
        rows.forEach((tr, r) => {
          const row = table.rows[r];
          const kind = accuracyOf(row[accuracy.index]);
          if (allExact !== (tr.cells.length === columns.length - 1))
            throw new Error('table ' + table.name + ' shows its accuracy column wrongly');
          if ((kind === 'mixed') !== Boolean(tr.querySelector('.badge.mixed')))
            throw new Error('table ' + table.name + ' row ' + r + ' is ' + kind + ' but its badge says otherwise');
          for (const column of columns) {
            if (!column.figure) continue;
            const text = tr.cells[column.index].textContent;
            if (text.startsWith('~') !== (markOf(kind, row[column.index]) === '~'))
              throw new Error('table ' + table.name + ' row ' + r + ' shows ' + column.name + ' as ' + text +
                ', and its figures are ' + kind);
          }
        });
      });
    }
  }

  /* The summary figure each card's data-field shows. */
  const SUMMARY_FIGURES = { allocations: 'allocations', frees: 'frees', allocated_bytes: 'allocations',
    peak_bytes: 'peak', live_blocks: 'live', live_bytes: 'live' };

  function selfTest() {
    for (const node of document.querySelectorAll('#summary [data-field]')) {
      const text = node.textContent;
      /* Blocks and bytes as accurate as the summary says; threads are counted. */
      const figure = SUMMARY_FIGURES[node.dataset.field];
      const kind = figure ? summaryAccuracy(figure) : 'exact';
      const estimate = markOf(kind, summary[node.dataset.field]) === '~';
      if (estimate !== text.startsWith('~'))
        return node.dataset.field + ' shows ' + text + (estimate ? ', not marked as an estimate' : ', marked as an estimate');
      const badge = node.closest('.card').querySelector('.badge.mixed');
      if ((kind === 'mixed') !== Boolean(badge))
        return node.dataset.field + ' is ' + kind + ', and its card ' + (badge ? 'says mixed' : 'does not say mixed');
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
    if (data.timeline.length > 0 && summary.peak_bytes > 0 &&
        !data.timeline.some(point => point[0] === summary.peak_time_ns && point[1] === summary.peak_bytes))
      return 'the live heap line misses the peak (' + summary.peak_bytes + ' bytes at ' + summary.peak_time_ns + ' ns)';
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
    selfTestAccuracy();
    const taskVerdict = selfTestTasks();
    if (taskVerdict) return taskVerdict;
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
