// Flip-and-slide explorer for the discrete convolution (f * g)(t) = sum_tau f(t - tau) g(tau), Eq. (6.1),
// and, with the "no flip" box ticked, the cross-correlation (f ⋆ g)(l) = sum_tau f(tau - l) g(tau).
// Everything is computed here, in the browser, from the synced traits f, g, t, flip, preset and
// presets, so the explorer keeps working in the static book without a kernel. No imports, no CDN;
// el() and frame() come from widget_kit.js.

const COLORS = { g: "#1f77b4", f: "#d62728", prod: "#9467bd", out: "#2ca02c", hi: "#ff7f0e" };

// Full convolution: out[t] = sum_tau f[t - tau] g[tau], t = 0 .. m + n - 2.
export function convolve(f, g) {
  const out = new Array(f.length + g.length - 1).fill(0);
  for (let i = 0; i < f.length; i++) for (let j = 0; j < g.length; j++) out[i + j] += f[i] * g[j];
  return out;
}

// Full cross-correlation, f slid WITHOUT flipping: out[t] = sum_tau f(tau - l) g(tau) at the lag
// l = t - (m - 1), t = 0 .. m + n - 2 (numpy.correlate(g, f, "full")).
export function correlate(f, g) {
  return convolve([...f].reverse(), g);
}

// Index into f met by g(tau) at output index t: t - tau with the flip, tau - (t - (m - 1)) without.
function fIndex(m, t, tau, flip) {
  return flip ? t - tau : tau - t + m - 1;
}

// The terms of the sum at output index t: one entry per tau with both factors possibly non-zero.
export function terms(f, g, t, flip = true) {
  const rows = [];
  for (let tau = 0; tau < g.length; tau++) {
    const k = fIndex(f.length, t, tau, flip);
    if (k >= 0 && k < f.length) rows.push({ tau, f: f[k], g: g[tau], prod: f[k] * g[tau] });
  }
  return rows;
}

function fmt(x) {
  const r = Math.round(x * 1000) / 1000;
  return Object.is(r, -0) ? "0" : String(r);
}

// A factor in a product: negative numbers in parentheses, "1·(-1)" rather than "1·-1".
function paren(x) {
  const s = fmt(x);
  return s.startsWith("-") ? `(${s})` : s;
}

// One lollipop panel: values[i] drawn at position xs[i] on a shared tau axis, with a y scale
// (ticks at -yMax, 0 and yMax) on the left.
function panel(svg, y0, h, label, xs, values, color, opts) {
  const { x, lo, hi, width, yMax, highlight } = opts;
  el("rect", { x: 0, y: y0, width, height: h, fill: "#fafafa", stroke: "#e0e0e0" }, svg);
  const title = 16;  // the label's row, kept clear of the plot and its y scale
  const mid = y0 + title + (h - title) / 2;
  const scale = ((h - title) / 2 - 6) / yMax;
  el("line", { x1: x(lo) - 8, x2: x(hi) + 8, y1: mid, y2: mid, stroke: "#999" }, svg);
  const axisX = x(lo) - 12;
  el("line", { x1: axisX, x2: axisX, y1: mid - yMax * scale, y2: mid + yMax * scale, stroke: "#999" }, svg);
  for (const v of [yMax, 0, -yMax]) {
    const y = mid - v * scale;
    el("line", { x1: axisX - 3, x2: axisX, y1: y, y2: y, stroke: "#999" }, svg);
    const tick = el("text", { x: axisX - 5, y: y + 3, "font-size": 9, "text-anchor": "end", fill: "#555",
      class: "cnnlib-flip-slide-ytick" }, svg);
    tick.textContent = fmt(v);
  }
  const text = el("text", { x: 6, y: y0 + 14, "font-size": 12, fill: color, "font-family": "sans-serif" }, svg);
  text.textContent = label;
  xs.forEach((pos, i) => {
    const v = values[i];
    const cx = x(pos);
    const cy = mid - v * scale;
    const c = highlight && highlight(pos) ? COLORS.hi : color;
    el("line", { x1: cx, x2: cx, y1: mid, y2: cy, stroke: c, "stroke-width": 2 }, svg);
    el("circle", { cx, cy, r: 3.5, fill: c }, svg);
  });
}

function render({ model, el: root }) {
  const { controls, svg, formula, value } = frame(root, {
    rootClass: "cnnlib-flip-slide", maxWidth: "720px", valueClass: "cnnlib-flip-slide-value" });

  const presetLabel = document.createElement("label");
  presetLabel.textContent = "pair: ";
  const select = document.createElement("select");
  select.className = "cnnlib-flip-slide-preset";
  presetLabel.appendChild(select);
  controls.appendChild(presetLabel);

  const sliderLabel = document.createElement("label");
  const tName = document.createElement("span");
  tName.textContent = "t = ";
  sliderLabel.appendChild(tName);
  const slider = document.createElement("input");
  slider.type = "range";
  slider.step = "1";
  slider.className = "cnnlib-flip-slide-t";
  const tText = document.createElement("span");
  sliderLabel.appendChild(tText);
  sliderLabel.appendChild(slider);
  controls.appendChild(sliderLabel);

  const flipLabel = document.createElement("label");
  const noFlip = document.createElement("input");
  noFlip.type = "checkbox";
  noFlip.className = "cnnlib-flip-slide-noflip";
  flipLabel.appendChild(noFlip);
  flipLabel.appendChild(document.createTextNode(" no flip (cross-correlation)"));
  controls.appendChild(flipLabel);

  function fillPresets() {
    const presets = model.get("presets") || {};
    const current = model.get("preset");
    select.replaceChildren();
    const names = Object.keys(presets);
    if (!names.includes(current)) {
      const opt = document.createElement("option");
      opt.value = current;
      opt.textContent = current || "custom";
      select.appendChild(opt);
    }
    for (const name of names) {
      const opt = document.createElement("option");
      opt.value = name;
      opt.textContent = name;
      select.appendChild(opt);
    }
    select.value = current;
  }

  function draw() {
    const f = model.get("f");
    const g = model.get("g");
    const flip = model.get("flip") !== false;
    const m = f.length, n = g.length;
    const out = flip ? convolve(f, g) : correlate(f, g);
    const tMax = out.length - 1;
    const t = Math.max(0, Math.min(tMax, model.get("t")));
    // Without the flip the slider is the lag l = t - (m - 1), from -(m - 1) to n - 1.
    const shift = flip ? t : t - (m - 1);
    const name = flip ? "t" : "ℓ";
    slider.min = "0";
    slider.max = String(tMax);
    slider.value = String(t);
    tName.textContent = `${name} = `;
    tText.textContent = `${shift} `;
    noFlip.checked = !flip;

    // Shared tau axis, wide enough for f at every shift (and for the outputs).
    const lo = -(m - 1), hi = m + n - 2;
    const width = 700, left = 56, right = 20;
    const x = (pos) => left + ((pos - lo) / Math.max(1, hi - lo)) * (width - left - right);
    const yMaxIn = Math.max(1e-12, ...f.map(Math.abs), ...g.map(Math.abs));
    const rows = terms(f, g, t, flip);
    const prodAll = [];
    for (let tau = lo; tau <= hi; tau++) {
      const k = fIndex(m, t, tau, flip);
      const fv = k >= 0 && k < m ? f[k] : 0;
      const gv = tau >= 0 && tau < n ? g[tau] : 0;
      prodAll.push(fv * gv);
    }
    const taus = Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
    const yMaxProd = Math.max(1e-12, ...prodAll.map(Math.abs));
    const yMaxOut = Math.max(1e-12, ...out.map(Math.abs));
    const h = 84, gap = 8;

    svg.replaceChildren();
    svg.setAttribute("viewBox", `0 0 ${width} ${4 * h + 3 * gap + 18}`);
    const fShifted = taus.map((tau) => { const k = fIndex(m, t, tau, flip); return k >= 0 && k < m ? f[k] : 0; });
    const gPadded = taus.map((tau) => (tau >= 0 && tau < n ? g[tau] : 0));
    const inWindow = (pos) => pos <= t && pos > t - m;  // where f sits, flipped or not
    const outAt = out.map((_, i) => (flip ? i : i - (m - 1)));
    panel(svg, 0, h, "g(τ)", taus, gPadded, COLORS.g, { x, lo, hi, width, yMax: yMaxIn });
    panel(svg, h + gap, h, flip ? `f(${t} − τ): f flipped, shifted to t = ${t}` :
      `f(τ − ${paren(shift)}): f not flipped, shifted by ℓ = ${shift}`, taus, fShifted, COLORS.f,
      { x, lo, hi, width, yMax: yMaxIn, highlight: null });
    panel(svg, 2 * (h + gap), h, flip ? "product f(t − τ) g(τ)" : "product f(τ − ℓ) g(τ)", taus, prodAll, COLORS.prod,
      { x, lo, hi, width, yMax: yMaxProd, highlight: inWindow });
    panel(svg, 3 * (h + gap), h, flip ? "(f * g)(t); orange: the current t" :
      "cross-correlation (f ⋆ g)(ℓ); orange: the current ℓ", outAt, out, COLORS.out,
      { x, lo, hi, width, yMax: yMaxOut, highlight: (pos) => pos === shift });
    // tau tick labels
    for (const tau of taus) {
      const lab = el("text", { x: x(tau), y: 4 * h + 3 * gap + 14, "font-size": 10, "text-anchor": "middle", fill: "#555" }, svg);
      lab.textContent = String(tau);
    }
    const sum = rows.reduce((s, r) => s + r.prod, 0);
    const shown = rows.filter((r) => r.prod !== 0).map((r) => `${paren(r.f)}·${paren(r.g)}`);
    const sumText = shown.length ? shown.join(" + ") : "0";
    formula.textContent = flip ? `(f * g)(${t}) = Σ f(${t} − τ) g(τ) = ${sumText} = ` :
      `(f ⋆ g)(${shift}) = Σ f(τ − ${paren(shift)}) g(τ) = ${sumText} = `;
    value.textContent = fmt(sum);
  }

  function update() {
    fillPresets();
    draw();
  }

  noFlip.addEventListener("change", () => {
    model.set("flip", !noFlip.checked);
    model.save_changes();
    draw();
  });
  slider.addEventListener("input", () => {
    model.set("t", Number(slider.value));
    model.save_changes();
    draw();
  });
  select.addEventListener("change", () => {
    const pair = (model.get("presets") || {})[select.value];
    if (!pair) return;
    model.set("preset", select.value);
    model.set("f", pair.f);
    model.set("g", pair.g);
    model.set("t", Math.floor((pair.f.length + pair.g.length - 2) / 2));
    model.save_changes();
    update();
  });
  const names = ["f", "g", "t", "flip", "preset", "presets"];
  for (const name of names) model.on(`change:${name}`, update);
  update();
  return () => {
    for (const name of names) model.off(`change:${name}`, update);
  };
}

export default { render };
