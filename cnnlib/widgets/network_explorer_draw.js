// Network explorer, part 2 of 3: drawing. Heat maps on canvases, small HTML helpers, and the
// parts of the explanation of a clicked unit: a zoom of its neighbourhood whose squares a finger
// can hit, its favourite patches of the training set, and the terms of its sum.

function fmt(v, digits = 2) {
  const s = v.toFixed(digits);
  return /^-0\.0*$/.test(s) ? s.slice(1) : s;
}

// A term of a printed sum: 3 decimals, negative numbers in parentheses.
function paren(v) {
  const s = fmt(v, 3);
  return s.startsWith("-") ? `(${s})` : s;
}

// Colour of value v on a scale of +-vmax: white to dark blue (v >= 0 only) or blue-white-red.
function colour(v, vmax, signed) {
  const t = Math.max(-1, Math.min(1, v / vmax));
  if (!signed || t >= 0) {
    const u = signed ? t : Math.max(0, t);
    return signed ? [255, Math.round(255 * (1 - 0.8 * u)), Math.round(255 * (1 - 0.85 * u))]
      : [Math.round(255 - 247 * u), Math.round(255 - 207 * u), Math.round(255 - 148 * u)];
  }
  const u = -t;
  return [Math.round(255 * (1 - 0.85 * u)), Math.round(255 * (1 - 0.6 * u)), 255];
}

function paint(canvas, values, offset, rows, cols, vmax, signed) {
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(cols, rows);
  for (let p = 0; p < rows * cols; p++) {
    const [r, g, b] = colour(values[offset + p], vmax, signed);
    img.data[4 * p] = r; img.data[4 * p + 1] = g; img.data[4 * p + 2] = b; img.data[4 * p + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

function pixelCanvas(rows, cols, size, parent) {
  const canvas = document.createElement("canvas");
  canvas.width = cols; canvas.height = rows;
  Object.assign(canvas.style, { width: `${size}px`, height: `${(size * rows) / cols}px`, imageRendering: "pixelated",
                                border: "1px solid #bbb", display: "block", boxSizing: "content-box" });
  if (parent) parent.appendChild(canvas);
  return canvas;
}

function div(parent, style = {}, text = null, className = null) {
  const node = document.createElement("div");
  Object.assign(node.style, style);
  if (text !== null) node.textContent = text;
  if (className) node.className = className;
  if (parent) parent.appendChild(node);
  return node;
}

// An HTML element with its properties, appended to parent when one is given.
function node(tag, parent, props = {}) {
  const n = document.createElement(tag);
  Object.assign(n, props);
  if (parent) parent.appendChild(n);
  return n;
}

function maxAbs(values) {
  let m = 1e-12;
  for (const v of values) if (Math.abs(v) > m) m = Math.abs(v);
  return m;
}

// The smallest side of a target a finger can hit (WCAG 2.2's minimum target size, 24 CSS px).
const TOUCH = 24;
// The zoom shows at most ZOOM x ZOOM units around the chosen one, each a CELL-pixel square.
const ZOOM = 9, CELL = 30;

function numberTable(parent, values, rows, cols, title) {
  const box = div(parent, {});
  div(box, { fontSize: "11px" }, title);
  const table = node("table", box);
  Object.assign(table.style, { borderCollapse: "collapse", fontFamily: "monospace", fontSize: "11px" });
  for (let a = 0; a < rows; a++) {
    const tr = node("tr", table);
    for (let b = 0; b < cols; b++) {
      const td = node("td", tr, { textContent: fmt(values[a * cols + b]) });
      Object.assign(td.style, { padding: "0 3px", textAlign: "right", border: "1px solid #eee" });
    }
  }
}

// The first of n (at most ZOOM) positions centred on p along an axis of length size, and n.
function around(p, size) {
  const n = Math.min(size, ZOOM);
  return [Math.min(Math.max(0, p - Math.floor(n / 2)), size - n), n];
}

// The chosen unit (i, k) and its neighbours in its channel (H x W values from values[offset]; a
// dense layer is one row), each a CELL-pixel square coloured on the layer's scale: tap one to choose it.
function zoomGrid(parent, { values, offset, H, W, i, k, vmax, signed, what, onPick }) {
  const [r0, nr] = around(i, H), [c0, nc] = around(k, W);
  const box = div(parent, {}, null, "cnnlib-network-zoom");
  const span = H > 1 ? `rows ${r0}–${r0 + nr - 1}, columns ${c0}–${c0 + nc - 1}` : `units ${c0}–${c0 + nc - 1}`;
  div(box, { fontSize: "11px", marginBottom: "2px", maxWidth: `${Math.max(nc * CELL, 200)}px` },
      `${what}, ${span} (tap a square to choose that unit)`);
  const grid = div(box, { display: "grid", gridTemplateColumns: `repeat(${nc}, ${CELL}px)`,
                          gridAutoRows: `${CELL}px`, width: "max-content", border: "1px solid #666" });
  for (let a = r0; a < r0 + nr; a++) {
    for (let b = c0; b < c0 + nc; b++) {
      const v = values[offset + a * W + b];
      const [R, G, B] = colour(v, vmax, signed);
      const chosen = a === i && b === k;
      const cell = div(grid, { background: `rgb(${R}, ${G}, ${B})`, cursor: "pointer", boxSizing: "border-box",
                               border: chosen ? "3px solid #ff7f0e" : "1px solid rgba(0, 0, 0, 0.1)" },
                       null, "cnnlib-network-zoom-cell");
      cell.dataset.row = String(a); cell.dataset.col = String(b);
      cell.title = `${H > 1 ? `row ${a}, column ${b}` : `unit ${b}`}: ${fmt(v, 3)}`;
      cell.addEventListener("click", () => onPick(a, b));
    }
  }
  return box;
}

// A channel's (or dense unit's) favourite patches of the training set, best first, dark ink on
// white as the digits are drawn, each with the value of the unit it excited.
function patchGallery(parent, patches, { what, source, positive, field }) {
  const box = div(parent, { maxWidth: "340px" }, null, "cnnlib-network-patches");
  const cut = field ? `each the ${field} pixels that the best unit of this channel sees in that digit ` +
    "(white beyond the digit's edge: the zero padding)" : "whole digits";
  const share = `${what} is positive${field ? " somewhere" : ""} on ${positive.toLocaleString("en")} of ${source}`;
  div(box, { fontSize: "11px", marginBottom: "2px" }, patches.length === 0
    ? `${share}: it has no favourite patches (a dead unit, on these digits).`
    : `${share}; its ${patches.length} favourite patches, best first, ${cut}; the number is the unit's value.`);
  const row = div(box, { display: "flex", flexWrap: "wrap", gap: "4px" });
  for (const p of patches) {
    const tile = div(row, { fontSize: "10px", textAlign: "center", color: "#555" });
    const canvas = pixelCanvas(p.rows, p.cols, 48, tile);
    canvas.className = "cnnlib-network-patch";
    paint(canvas, p.pixels, 0, p.rows, p.cols, 1, false);
    div(tile, {}, fmt(p.value, 1));
  }
  return box;
}

// The terms of a unit's sum (unitTerms): Eq. (6.14), or (6.20) for several input channels, with a patch and kernel per input channel, a
// pooling window, or a dense unit's largest products. best: the input channel whose numbers are shown.
function termsView(detail, terms, layer, i, k, best, actText, onChannel) {
  if (terms.kind === "conv") {
    const r0 = i * layer.stride[0] - layer.padding[0], c0 = k * layer.stride[1] - layer.padding[1];
    const padded = layer.padding[0] || layer.padding[1] ? " (positions outside the image are padding: x = 0)" : "";
    const eq = terms.channels.length > 1   // one input channel: Eq. (6.14); several: the multichannel Eq. (6.20)
      ? `Eq. (6.20), summed over the ${terms.channels.length} input channels: `
      : "Eq. (6.14), one input channel: ";
    div(detail, { margin: "4px 0" }, eq +
        `z = Σ_c Σ_i″ Σ_j″ w[c, i″, j″] · x[c, ${r0} + i″, ${c0} + j″] + b${padded}. ` +
        "Each pair below: the input patch x and the kernel w of one channel (click a pair for its numbers).");
    const row = div(detail, { display: "flex", flexWrap: "wrap", gap: "6px 12px" });
    for (const t of terms.channels) {
      const pair = div(row, { display: "flex", gap: "3px", alignItems: "center", cursor: "pointer",
                              outline: t.channel === best ? "2px solid #ff7f0e" : "none", padding: "2px" });
      pair.className = "cnnlib-network-kernel";
      const pc = pixelCanvas(terms.rows, terms.cols, 40, pair);
      paint(pc, t.patch, 0, terms.rows, terms.cols, maxAbs(t.patch), t.patch.some((v) => v < 0));
      const kc = pixelCanvas(terms.rows, terms.cols, 40, pair);
      paint(kc, t.kernel, 0, terms.rows, terms.cols, maxAbs(t.kernel), true);
      div(pair, { fontFamily: "monospace", fontSize: "11px", whiteSpace: "pre" }, `c=${t.channel}\nΣ=${fmt(t.sum, 3)}`);
      pair.addEventListener("click", () => onChannel(t.channel));
    }
    const chosen = terms.channels[best];
    const nums = div(detail, { display: "flex", flexWrap: "wrap", gap: "6px 16px", marginTop: "4px" });
    numberTable(nums, chosen.patch, terms.rows, terms.cols, `x, channel ${best}`);
    numberTable(nums, chosen.kernel, terms.rows, terms.cols, `w, channel ${best}`);
    const sums = terms.channels.map((t) => paren(t.sum)).join(" + ");
    div(detail, { fontFamily: "monospace", marginTop: "4px", whiteSpace: "normal" },
        `z = ${sums} + ${paren(terms.bias)} = ${fmt(terms.z, 3)}${actText}`, "cnnlib-network-sum");
  } else if (terms.kind === "maxpool" || terms.kind === "avgpool") {
    const what = terms.kind === "maxpool" ? "max" : "mean";
    div(detail, { fontFamily: "monospace", marginTop: "4px" },
        `${what} of the ${terms.rows} × ${terms.cols} window {${terms.window.map((v) => fmt(v, 3)).join(", ")}} = ` +
        `${fmt(terms.z, 3)}`, "cnnlib-network-sum");
  } else if (terms.kind === "linear") {
    const shown = terms.terms.slice(0, 5).map((t) => `${paren(t.w)}·${paren(t.a)}`).join(" + ");
    const rest = terms.terms.slice(5).reduce((s, t) => s + t.prod, 0);
    div(detail, { fontFamily: "monospace", marginTop: "4px" },
        `z = Σ_j w_j a_j + b over ${terms.n} inputs = ${shown} + (${terms.n - 5} smaller terms: ${paren(rest)}) + ` +
        `${paren(terms.bias)} = ${fmt(terms.z, 3)}${actText}`, "cnnlib-network-sum");
  }
}
