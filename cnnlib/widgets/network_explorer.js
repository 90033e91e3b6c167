// Network explorer: a trained CNN (LeNet-5 in the book) running in the page. The reader draws a
// digit on a 28 x 28 canvas (or picks a test digit); every layer is recomputed here, in the
// browser, from the weights embedded in the widget state (base64 float32), and redrawn. A click
// on a unit shows its receptive field on the input, the kernel and the numbers of Eq. (6.14).
// No imports, no CDN; frame() comes from widget_kit.js.

// ---------------------------------------------------------------------------------------------
// The network: decoding, forward pass, receptive fields, one unit's terms (exported for tests).

// Bytes of a base64 string (atob in browsers and Node >= 16).
export function decodeBase64(b64) {
  const text = atob(b64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

// Little-endian float32 values of a base64 string, whatever the machine's byte order.
export function decodeFloat32(b64) {
  const bytes = decodeBase64(b64);
  const view = new DataView(bytes.buffer);
  const out = new Float32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}

// The layer list of network_spec with each layer's weight and bias as Float32Arrays.
export function buildNet(layers, weightsB64) {
  const all = decodeFloat32(weightsB64);
  const take = (span) => (span ? all.subarray(span[0], span[0] + span[1]) : null);
  let inShape = [1, 28, 28];
  return layers.map((spec) => {
    const layer = { ...spec, inShape, W: take(spec.weight), B: take(spec.bias) };
    inShape = spec.shape;
    return layer;
  });
}

function conv(layer, x) {
  const [C, H, Wd] = layer.inShape;
  const [O, Ho, Wo] = layer.shape;
  const [Kh, Kw] = layer.kernel, [sh, sw] = layer.stride, [ph, pw] = layer.padding, [dh, dw] = layer.dilation;
  const out = new Float64Array(O * Ho * Wo);
  const W = layer.W, B = layer.B;
  for (let o = 0; o < O; o++) {
    for (let i = 0; i < Ho; i++) {
      for (let k = 0; k < Wo; k++) {
        let z = B ? B[o] : 0;
        for (let c = 0; c < C; c++) {
          const wBase = ((o * C) + c) * Kh * Kw, xBase = c * H * Wd;
          for (let a = 0; a < Kh; a++) {
            const r = i * sh - ph + a * dh;
            if (r < 0 || r >= H) continue;
            for (let b = 0; b < Kw; b++) {
              const q = k * sw - pw + b * dw;
              if (q < 0 || q >= Wd) continue;
              z += W[wBase + a * Kw + b] * x[xBase + r * Wd + q];
            }
          }
        }
        out[(o * Ho + i) * Wo + k] = z;
      }
    }
  }
  return out;
}

function pool(layer, x) {
  const [C, H, Wd] = layer.inShape;
  const [, Ho, Wo] = layer.shape;
  const [Kh, Kw] = layer.kernel, [sh, sw] = layer.stride;
  const isMax = layer.kind === "maxpool";
  const out = new Float64Array(C * Ho * Wo);
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < Ho; i++) {
      for (let k = 0; k < Wo; k++) {
        let v = isMax ? -Infinity : 0;
        for (let a = 0; a < Kh; a++) {
          for (let b = 0; b < Kw; b++) {
            const u = x[c * H * Wd + (i * sh + a) * Wd + (k * sw + b)];
            v = isMax ? Math.max(v, u) : v + u;
          }
        }
        out[(c * Ho + i) * Wo + k] = isMax ? v : v / (Kh * Kw);
      }
    }
  }
  return out;
}

function linear(layer, x) {
  const n = layer.in_features, m = layer.out_features;
  const out = new Float64Array(m);
  for (let j = 0; j < m; j++) {
    let z = layer.B ? layer.B[j] : 0;
    const base = j * n;
    for (let i = 0; i < n; i++) z += layer.W[base + i] * x[i];
    out[j] = z;
  }
  return out;
}

// Every layer's output for one image x (784 values in [0, 1], row-major): a list of Float64Arrays.
export function forward(net, x) {
  const outs = [];
  let h = Float64Array.from(x);
  for (const layer of net) {
    if (layer.kind === "conv") h = conv(layer, h);
    else if (layer.kind === "maxpool" || layer.kind === "avgpool") h = pool(layer, h);
    else if (layer.kind === "linear") h = linear(layer, h);
    else if (layer.kind === "relu") h = h.map((v) => (v > 0 ? v : 0));
    else if (layer.kind === "tanh") h = h.map(Math.tanh);
    else if (layer.kind === "flatten") h = Float64Array.from(h);
    else throw new Error(`network explorer: unknown layer kind ${layer.kind}`);
    outs.push(h);
  }
  return outs;
}

export function softmax(z) {
  const top = Math.max(...z);
  const e = Array.from(z, (v) => Math.exp(v - top));
  const total = e.reduce((s, v) => s + v, 0);
  return e.map((v) => v / total);
}

// Input pixels that can affect unit (i, k) of layer `index`'s output, clipped to the image:
// {top, bottom, left, right} (inclusive); the whole image once a dense layer is passed.
export function receptiveField(net, index, i, k) {
  let top = i, bottom = i, left = k, right = k;
  for (let j = index; j >= 0; j--) {
    const layer = net[j];
    if (layer.kind === "linear" || layer.kind === "flatten") return { top: 0, bottom: 27, left: 0, right: 27 };
    if (layer.kind === "conv" || layer.kind === "maxpool" || layer.kind === "avgpool") {
      const [Kh, Kw] = layer.kernel, [sh, sw] = layer.stride;
      const [ph, pw] = layer.padding || [0, 0], [dh, dw] = layer.dilation || [1, 1];
      top = top * sh - ph; bottom = bottom * sh - ph + dh * (Kh - 1);
      left = left * sw - pw; right = right * sw - pw + dw * (Kw - 1);
    }
  }
  return { top: Math.max(0, top), bottom: Math.min(27, bottom), left: Math.max(0, left), right: Math.min(27, right) };
}

// What produced unit (c, i, k) of layer `index` (a conv, pool or linear layer): the terms of its sum.
// conv: Eq. (6.14) summed over input channels, {channels: [{patch, kernel, sum}], bias, z}.
export function unitTerms(net, outs, x, index, c, i, k) {
  const layer = net[index];
  const input = index === 0 ? Float64Array.from(x) : outs[index - 1];
  if (layer.kind === "conv") {
    const [C, H, Wd] = layer.inShape;
    const [Kh, Kw] = layer.kernel, [sh, sw] = layer.stride, [ph, pw] = layer.padding, [dh, dw] = layer.dilation;
    const channels = [];
    for (let ch = 0; ch < C; ch++) {
      const patch = [], kernel = [];
      let sum = 0;
      for (let a = 0; a < Kh; a++) {
        for (let b = 0; b < Kw; b++) {
          const r = i * sh - ph + a * dh, q = k * sw - pw + b * dw;
          const v = r >= 0 && r < H && q >= 0 && q < Wd ? input[ch * H * Wd + r * Wd + q] : 0;
          const w = layer.W[((c * C + ch) * Kh + a) * Kw + b];
          patch.push(v); kernel.push(w); sum += w * v;
        }
      }
      channels.push({ channel: ch, patch, kernel, sum });
    }
    const bias = layer.B ? layer.B[c] : 0;
    return { kind: "conv", channels, bias, z: channels.reduce((s, t) => s + t.sum, bias), rows: Kh, cols: Kw };
  }
  if (layer.kind === "maxpool" || layer.kind === "avgpool") {
    const [, H, Wd] = layer.inShape;
    const [Kh, Kw] = layer.kernel, [sh, sw] = layer.stride;
    const window = [];
    for (let a = 0; a < Kh; a++) for (let b = 0; b < Kw; b++) window.push(input[c * H * Wd + (i * sh + a) * Wd + k * sw + b]);
    const z = layer.kind === "maxpool" ? Math.max(...window) : window.reduce((s, v) => s + v, 0) / window.length;
    return { kind: layer.kind, window, z, rows: Kh, cols: Kw };
  }
  if (layer.kind === "linear") {
    const n = layer.in_features;
    const terms = Array.from(input, (a, j) => ({ j, w: layer.W[c * n + j], a, prod: layer.W[c * n + j] * a }));
    const bias = layer.B ? layer.B[c] : 0;
    const z = terms.reduce((s, t) => s + t.prod, bias);
    terms.sort((p, q) => Math.abs(q.prod) - Math.abs(p.prod));
    return { kind: "linear", terms, bias, z, n };
  }
  return null;
}

// MNIST's normalisation of a drawing (LeCun et al.): the ink's bounding box scaled, keeping its
// aspect ratio, so that its longer side is 20 pixels (each new pixel the area average of what it
// covers), then placed in the 28 x 28 frame with its centre of mass at the centre (14, 14).
function areaWeights(n, m, start, scale) {
  // A[i][y]: the share of source pixel y (of start..start+n-1) in target pixel i (of 0..m-1).
  const A = [];
  for (let i = 0; i < m; i++) {
    const lo = start + i / scale, hi = start + (i + 1) / scale;
    const row = new Float64Array(n);
    for (let y = 0; y < n; y++) row[y] = Math.max(0, Math.min(hi, start + y + 1) - Math.max(lo, start + y)) * scale;
    A.push(row);
  }
  return A;
}

export function normalizeDigit(pixels, size = 28, box = 20) {
  let top = size, bottom = -1, left = size, right = -1;
  for (let r = 0; r < size; r++) {
    for (let q = 0; q < size; q++) {
      if (pixels[r * size + q] > 0) {
        top = Math.min(top, r); bottom = Math.max(bottom, r); left = Math.min(left, q); right = Math.max(right, q);
      }
    }
  }
  const out = new Float32Array(size * size);
  if (bottom < 0) return out;
  const h = bottom - top + 1, w = right - left + 1;
  const scale = box / Math.max(h, w);
  const H = Math.max(1, Math.round(h * scale)), W = Math.max(1, Math.round(w * scale));
  const Ar = areaWeights(h, H, 0, H / h), Ac = areaWeights(w, W, 0, W / w);
  const small = new Float64Array(H * W);
  let mass = 0, my = 0, mx = 0;
  for (let i = 0; i < H; i++) {
    for (let j = 0; j < W; j++) {
      let v = 0;
      for (let y = 0; y < h; y++) {
        if (Ar[i][y] === 0) continue;
        for (let x = 0; x < w; x++) v += Ar[i][y] * Ac[j][x] * pixels[(top + y) * size + left + x];
      }
      small[i * W + j] = v; mass += v; my += v * (i + 0.5); mx += v * (j + 0.5);
    }
  }
  const clamp = (v, hiV) => Math.min(Math.max(v, 0), hiV);
  const oy = clamp(Math.round(size / 2 - my / mass), size - H), ox = clamp(Math.round(size / 2 - mx / mass), size - W);
  for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) out[(oy + i) * size + ox + j] = Math.min(1, small[i * W + j]);
  return out;
}

// The layers as they are drawn: each conv, pool or linear layer with the activations right after
// a conv or linear layer folded in. [{first, last, title}] (indices into the layer list).
export function stages(net) {
  const out = [];
  net.forEach((layer, j) => {
    const short = layer.name.split(".").pop();
    const prev = out[out.length - 1];
    if ((layer.kind === "relu" || layer.kind === "tanh") && prev && prev.foldable) {
      prev.last = j; prev.foldable = false;
      prev.title += layer.kind === "relu" ? " + ReLU" : " + tanh";
    } else if (layer.kind !== "flatten") {
      out.push({ first: j, last: j, title: short, foldable: layer.kind === "conv" || layer.kind === "linear" });
    }
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Drawing.

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

function render({ model, el: root }) {
  const { controls, svg, formula, value } = frame(root, {
    rootClass: "cnnlib-network", maxWidth: "100%", valueClass: "cnnlib-network-prediction" });
  const net = buildNet(model.get("layers"), model.get("weights"));
  const groups = stages(net);
  const examples = (model.get("examples") || []).map((e) => ({
    label: e.label, pixels: Float64Array.from(decodeBase64(e.pixels), (v) => v / 255) }));
  const image = new Float64Array(28 * 28);   // what is on the pad
  let seen = image;                          // what the network gets: a drawing normalised as MNIST's digits
  let outs = forward(net, seen);
  let selected = null; // {index, c, i, k, stage}
  let detailChannel = null;

  // Controls: example picker, clear button, a hint.
  const picker = node("select", null, { className: "cnnlib-network-examples" });
  node("option", picker, { value: "-1", textContent: "your own drawing" });
  examples.forEach((ex, n) => {
    const predicted = argmax(forward(net, ex.pixels).at(-1));
    node("option", picker, { value: String(n), textContent: predicted === ex.label ? `test digit ${n + 1} (label ${ex.label})`
      : `test digit ${n + 1} (label ${ex.label}), misclassified as ${predicted}` });
  });
  if (examples.length) node("label", controls, { textContent: "digit: " }).appendChild(picker);
  const clear = node("button", controls, { textContent: "clear", className: "cnnlib-network-clear" });
  node("span", controls, { textContent: "draw in the box; click any unit below to see what feeds it" }).style.color = "#555";

  // Input and the convolutional layers, one block per stage, wrapping on narrow screens.
  const body = div(null, { display: "flex", flexWrap: "wrap", gap: "10px 18px", alignItems: "flex-start" });
  root.insertBefore(body, svg);
  const inputBlock = div(body, {});
  div(inputBlock, { fontSize: "12px", marginBottom: "2px" }, "input 28 × 28 (draw here)");
  // The frame is the wrapper's border, so that the outline (percentages of the wrapper) sits on the pixels.
  const inputWrap = div(inputBlock, { position: "relative", width: "168px", height: "168px", border: "1px solid #666" });
  const pad = pixelCanvas(28, 28, 168, inputWrap);
  pad.className = "cnnlib-network-input";
  Object.assign(pad.style, { touchAction: "none", cursor: "crosshair", border: "none" });
  const seenBlock = div(body, {});
  div(seenBlock, { fontSize: "12px", marginBottom: "2px" }, "what the network sees");
  const seenWrap = div(seenBlock, { position: "relative", width: "84px", height: "84px", border: "1px solid #666" });
  const seenCanvas = pixelCanvas(28, 28, 84, seenWrap);
  seenCanvas.className = "cnnlib-network-seen";
  div(seenBlock, { fontSize: "11px", maxWidth: "84px", color: "#555" },
      "a drawing is scaled to a 20 × 20 box and centred by its mass, as MNIST's digits were");
  const field = div(inputWrap, { position: "absolute", border: "2px solid #ff7f0e", display: "none",
                                 pointerEvents: "none", boxSizing: "border-box" }, null, "cnnlib-network-field");

  const maps = []; // per stage with 3-D output: {stage, canvases, cell}
  for (const [s, g] of groups.entries()) {
    const shape = net[g.last].shape;
    if (shape.length !== 3) continue;
    const [C, H, Wd] = shape;
    const block = div(body, { maxWidth: "100%" });
    div(block, { fontSize: "12px", marginBottom: "2px" }, `${g.title}: ${C} × ${H} × ${Wd}`);
    const grid = div(block, { display: "flex", flexWrap: "wrap", gap: "3px" });
    const size = Math.max(30, Math.min(50, 2 * Wd));
    const canvases = [];
    for (let c = 0; c < C; c++) {
      const wrap = div(grid, { position: "relative" });
      const canvas = pixelCanvas(H, Wd, size, wrap);
      canvas.className = "cnnlib-network-map";
      canvas.dataset.layer = String(g.first); canvas.dataset.channel = String(c);
      canvas.style.cursor = "pointer";
      canvas.title = `${g.title}, channel ${c}`;
      canvas.addEventListener("click", (ev) => {
        const box = canvas.getBoundingClientRect();
        const i = Math.min(H - 1, Math.max(0, Math.floor(((ev.clientY - box.top) / box.height) * H)));
        const k = Math.min(Wd - 1, Math.max(0, Math.floor(((ev.clientX - box.left) / box.width) * Wd)));
        select({ index: g.first, c, i, k, stage: s });
      });
      canvases.push(canvas);
    }
    const cell = div(null, { position: "absolute", border: "2px solid #ff7f0e", pointerEvents: "none",
                             boxSizing: "border-box", display: "none" });
    maps.push({ stage: s, canvases, cell, C, H, Wd });
  }

  // Dense layers and the class probabilities as bars (HTML, so that they reflow on a phone).
  svg.remove();
  const barsBox = div(null, { marginTop: "8px" });
  root.insertBefore(barsBox, value.parentNode);
  const bars = groups.map((g, s) => ({ g, s })).filter(({ g }) => net[g.last].shape.length === 1).map(({ g, s }) => {
    const n = net[g.last].shape[0];
    const last = g.last === net.length - 1;
    div(barsBox, { fontSize: "12px", marginTop: "6px" },
        last ? `${g.title} → softmax: the ${n} class probabilities` : `${g.title}: ${n} units (click a bar)`);
    const row = div(barsBox, { display: "flex", alignItems: "flex-end", gap: last ? "4px" : "1px",
                               height: last ? "60px" : "36px", borderBottom: "1px solid #999", maxWidth: "720px" });
    const rects = [];
    for (let j = 0; j < n; j++) {
      const hit = div(row, { flex: "1 1 0", height: "100%", display: "flex", alignItems: "flex-end", cursor: "pointer",
                             minWidth: "1px" });
      hit.title = `${g.title}, unit ${j}`;
      rects.push(div(hit, { width: "100%", background: "#1f77b4" }, null, "cnnlib-network-bar"));
      hit.addEventListener("click", () => select({ index: g.first, c: j, i: 0, k: 0, stage: s }));
    }
    if (last) {
      const labels = div(barsBox, { display: "flex", gap: "4px", maxWidth: "720px", fontSize: "11px" });
      for (let j = 0; j < n; j++) div(labels, { flex: "1 1 0", textAlign: "center" }, String(j));
    }
    return { g, s, rects, last };
  });

  const detail = div(root, { marginTop: "8px", fontSize: "12px", borderTop: "1px solid #ddd", paddingTop: "6px" },
                     "Click a unit of any layer to see its receptive field, its kernel and its sum. Each layer's " +
                     "heat maps share one scale: white is 0, dark blue the layer's largest value (a layer with " +
                     "negative values runs from blue, negative, through white to red, positive).",
                     "cnnlib-network-detail");

  // ---- updating ---------------------------------------------------------------------------
  function update() {
    seen = picker.value === "-1" ? normalizeDigit(image) : image;
    outs = forward(net, seen);
    paint(pad, image, 0, 28, 28, 1, false);
    paint(seenCanvas, seen, 0, 28, 28, 1, false);
    for (const m of maps) {
      const values = outs[groups[m.stage].last];
      const vmax = maxAbs(values), signed = values.some((v) => v < 0);
      m.canvases.forEach((canvas, c) => paint(canvas, values, c * m.H * m.Wd, m.H, m.Wd, vmax, signed));
    }
    for (const b of bars) {
      const z = outs[b.g.last];
      const values = b.last ? softmax(z) : Array.from(z);
      const vmax = b.last ? 1 : maxAbs(values);
      const top = argmax(values);
      values.forEach((v, j) => {
        const chosen = selected && selected.stage === b.s && selected.c === j;
        Object.assign(b.rects[j].style, { height: `${Math.max(1, (100 * Math.abs(v)) / vmax)}%`,
          background: chosen ? "#ff7f0e" : b.last && j === top ? "#2ca02c" : v < 0 ? "#d62728" : "#1f77b4" });
      });
    }
    const probs = softmax(outs[net.length - 1]);
    const top = argmax(probs);
    formula.textContent = "prediction: ";
    value.textContent = `${top} (probability ${fmt(probs[top], 3)})`;
    showDetail();
  }

  // Redraw once per animation frame; data-update-ms: from the first event waiting for this frame to
  // the end of the redraw, data-compute-ms: the forward pass and drawing alone (read by the browser test).
  let pending = null;
  function schedule(start) {
    if (pending !== null) return;
    pending = start;
    const run = () => {
      const t0 = performance.now();
      update();
      root.dataset.computeMs = String((performance.now() - t0).toFixed(2));
      root.dataset.updateMs = String((performance.now() - pending).toFixed(2));
      root.dataset.updates = String(Number(root.dataset.updates || 0) + 1);
      pending = null;
    };
    if (typeof requestAnimationFrame === "function") requestAnimationFrame(run); else run();
  }

  // ---- drawing ----------------------------------------------------------------------------
  let last = null;
  function ink(x, y) {
    for (let r = Math.floor(y - 2); r <= Math.ceil(y + 2); r++) {
      for (let q = Math.floor(x - 2); q <= Math.ceil(x + 2); q++) {
        if (r < 0 || r > 27 || q < 0 || q > 27) continue;
        const d = Math.hypot(r + 0.5 - y, q + 0.5 - x);
        const v = d <= 0.9 ? 1 : Math.max(0, 1 - (d - 0.9) / 1.1);
        if (v > image[r * 28 + q]) image[r * 28 + q] = v;
      }
    }
  }
  function point(ev) {
    const box = pad.getBoundingClientRect();
    return [((ev.clientX - box.left) / box.width) * 28, ((ev.clientY - box.top) / box.height) * 28];
  }
  function stroke(ev) {
    const [x, y] = point(ev);
    const [x0, y0] = last || [x, y];
    const steps = Math.max(1, Math.ceil(Math.hypot(x - x0, y - y0) / 0.4));
    for (let t = 1; t <= steps; t++) ink(x0 + ((x - x0) * t) / steps, y0 + ((y - y0) * t) / steps);
    last = [x, y];
    if (picker.value !== "-1") { picker.value = "-1"; model.set("example", -1); model.save_changes(); }
    schedule(performance.now());
  }
  pad.addEventListener("pointerdown", (ev) => {
    ev.preventDefault();
    if (pad.setPointerCapture && ev.pointerId !== undefined) pad.setPointerCapture(ev.pointerId);
    last = null; stroke(ev);
  });
  pad.addEventListener("pointermove", (ev) => { if (last) { ev.preventDefault(); stroke(ev); } });
  for (const end of ["pointerup", "pointercancel", "pointerleave"]) pad.addEventListener(end, () => { last = null; });

  function load(n) {
    image.fill(0);
    if (n >= 0 && n < examples.length) image.set(examples[n].pixels);
    picker.value = String(n >= 0 && n < examples.length ? n : -1);
    schedule(performance.now());
  }
  picker.addEventListener("change", () => {
    const n = Number(picker.value);
    model.set("example", n); model.save_changes();
    load(n);
  });
  clear.addEventListener("click", () => {
    model.set("example", -1); model.save_changes();
    load(-1);
  });

  // ---- a unit's inputs ------------------------------------------------------------------------
  function select(unit) {
    selected = unit;
    detailChannel = null;
    model.set("selected", [unit.index, unit.c, unit.i, unit.k]); model.save_changes();
    update();
    // Keep what the click explains in view: the explanation below, and, when it fits, the input with its field.
    if (typeof detail.scrollIntoView === "function") detail.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }

  function numberTable(parent, values, rows, cols, title) {
    const box = div(parent, {});
    div(box, { fontSize: "11px" }, title);
    const table = document.createElement("table");
    Object.assign(table.style, { borderCollapse: "collapse", fontFamily: "monospace", fontSize: "11px" });
    for (let a = 0; a < rows; a++) {
      const tr = document.createElement("tr");
      for (let b = 0; b < cols; b++) {
        const td = document.createElement("td");
        td.textContent = fmt(values[a * cols + b]);
        Object.assign(td.style, { padding: "0 3px", textAlign: "right", border: "1px solid #eee" });
        tr.appendChild(td);
      }
      table.appendChild(tr);
    }
    box.appendChild(table);
  }

  function showDetail() {
    for (const m of maps) m.cell.remove();
    if (!selected) { field.style.display = "none"; return; }
    const { index, c, i, k, stage } = selected;
    const g = groups[stage];
    const layer = net[index];
    const f = receptiveField(net, index, i, k);
    (seen === image ? inputWrap : seenWrap).appendChild(field);   // outline the pixels the network got
    Object.assign(field.style, { display: "block", top: `${(f.top / 28) * 100}%`, left: `${(f.left / 28) * 100}%`,
                                 height: `${((f.bottom - f.top + 1) / 28) * 100}%`,
                                 width: `${((f.right - f.left + 1) / 28) * 100}%` });
    field.dataset.rows = `${f.top}-${f.bottom}`;
    field.dataset.cols = `${f.left}-${f.right}`;
    const m = maps.find((mm) => mm.stage === stage);
    if (m) {
      Object.assign(m.cell.style, { display: "block", top: `${(i / m.H) * 100}%`, left: `${(k / m.Wd) * 100}%`,
                                    width: `${100 / m.Wd}%`, height: `${100 / m.H}%` });
      m.canvases[c].parentNode.appendChild(m.cell);
    }
    const terms = unitTerms(net, outs, seen, index, c, i, k);
    const after = outs[g.last][layer.shape.length === 3 ? (c * layer.shape[1] + i) * layer.shape[2] + k : c];
    const act = g.last !== g.first ? net[g.last].kind : null;
    const actText = act ? `; after ${act === "relu" ? "ReLU" : "tanh"}: a = ${fmt(after, 3)}` : "";
    const where = layer.shape.length === 3 ? `${layer.name.split(".").pop()}, channel ${c}, row ${i}, column ${k}`
      : `${layer.name.split(".").pop()}, unit ${c}`;
    detail.replaceChildren();
    div(detail, { fontWeight: "bold" }, `${where}: receptive field rows ${f.top}–${f.bottom}, columns ${f.left}–${f.right} of the input`);
    if (terms.kind === "conv") {
      const best = detailChannel !== null ? detailChannel
        : terms.channels.reduce((p, t) => (Math.abs(t.sum) > Math.abs(terms.channels[p].sum) ? t.channel : p), 0);
      const r0 = i * layer.stride[0] - layer.padding[0], c0 = k * layer.stride[1] - layer.padding[1];
      const padded = layer.padding[0] || layer.padding[1] ? " (positions outside the image are padding: x = 0)" : "";
      div(detail, { margin: "4px 0" }, `Eq. (6.14), summed over the ${terms.channels.length} input channel(s): ` +
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
        div(pair, { fontFamily: "monospace", fontSize: "11px" }, `c=${t.channel}\nΣ=${fmt(t.sum, 3)}`).style.whiteSpace = "pre";
        pair.addEventListener("click", () => { detailChannel = t.channel; showDetail(); });
      }
      const chosen = terms.channels[best];
      const nums = div(detail, { display: "flex", flexWrap: "wrap", gap: "6px 16px", marginTop: "4px" });
      numberTable(nums, chosen.patch, terms.rows, terms.cols, `x, channel ${best}`);
      numberTable(nums, chosen.kernel, terms.rows, terms.cols, `w, channel ${best}`);
      const sums = terms.channels.map((t) => paren(t.sum)).join(" + ");
      div(detail, { fontFamily: "monospace", marginTop: "4px", whiteSpace: "normal" },
          `z = ${sums} + ${paren(terms.bias)} = ${fmt(terms.z, 3)}${actText}`).className = "cnnlib-network-sum";
    } else if (terms.kind === "maxpool" || terms.kind === "avgpool") {
      const what = terms.kind === "maxpool" ? "max" : "mean";
      div(detail, { fontFamily: "monospace", marginTop: "4px" },
          `${what} of the ${terms.rows} × ${terms.cols} window {${terms.window.map((v) => fmt(v, 3)).join(", ")}} = ${fmt(terms.z, 3)}`)
        .className = "cnnlib-network-sum";
    } else if (terms.kind === "linear") {
      const shown = terms.terms.slice(0, 5).map((t) => `${paren(t.w)}·${paren(t.a)}`).join(" + ");
      const rest = terms.terms.slice(5).reduce((s, t) => s + t.prod, 0);
      div(detail, { fontFamily: "monospace", marginTop: "4px" },
          `z = Σ_j w_j a_j + b over ${terms.n} inputs = ${shown} + (${terms.n - 5} smaller terms: ${paren(rest)}) + ` +
          `${paren(terms.bias)} = ${fmt(terms.z, 3)}${actText}`).className = "cnnlib-network-sum";
    }
  }

  function argmax(values) {
    let best = 0;
    for (let j = 1; j < values.length; j++) if (values[j] > values[best]) best = j;
    return best;
  }

  const onExample = () => load(model.get("example"));
  model.on("change:example", onExample);
  const sel = model.get("selected") || [];
  if (sel.length === 4) {
    const s = groups.findIndex((g) => g.first === sel[0] || (sel[0] >= g.first && sel[0] <= g.last));
    if (s >= 0) selected = { index: groups[s].first, c: sel[1], i: sel[2], k: sel[3], stage: s };
  }
  load(model.get("example"));
  return () => model.off("change:example", onExample);
}

export default { render };
