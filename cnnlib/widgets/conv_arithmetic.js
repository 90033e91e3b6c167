// Convolution-arithmetic explorer: padding, stride and dilation, and the output size of Eq. (6.17).
// Everything is computed here, in the browser, from the synced traits M, K, total_padding, stride,
// dilation (pairs: rows, columns) and position (the output pixel shown, row-major), so the explorer
// keeps working in the static book without a kernel. Padding is the chapter's TOTAL padding p
// (the page's convention): an odd total puts the extra zero row (column) below (to the right), as
// torch.nn.functional.pad with the larger amount second and PyTorch's padding="same" do.
// No imports, no CDN; el() and frame() come from widget_kit.js.

const COLORS = { pad: "#e8e8e8", input: "#ffffff", unread: "#f6c9d4", tap: "#d62728", span: "#ff7f0e",
                 out: "#2ca02c", grid: "#888" };

// Effective (dilated) kernel size along one axis: d (K - 1) + 1.
export function effectiveKernel(K, d) {
  return d * (K - 1) + 1;
}

// The total padding p split into [before, after]: the extra zero of an odd total goes after.
export function padSplit(p) {
  return [Math.floor(p / 2), p - Math.floor(p / 2)];
}

// Eq. (6.17) along one axis, with p the chapter's total padding (zeros added before plus after).
// Returns null when the dilated kernel is larger than the padded input (no output at all).
export function outputSize(M, K, p, s, d) {
  const span = effectiveKernel(K, d);
  if (span > M + p) return null;
  return Math.floor((M + p - span) / s) + 1;
}

// Padded-input coordinates (row, col) of the taps that produce output pixel (i, k).
export function taps(i, k, K, s, d) {
  const out = [];
  for (let a = 0; a < K[0]; a++) for (let b = 0; b < K[1]; b++) out.push([i * s[0] + a * d[0], k * s[1] + b * d[1]]);
  return out;
}

// Indices (from 0) of the input rows (or columns) along one axis that no output pixel reads:
// a stride larger than the dilated kernel skips some, and so does a last step that does not fit.
export function unread(M, K, p, s, d) {
  const n = outputSize(M, K, p, s, d);
  if (n === null) return [];
  const before = padSplit(p)[0];
  const read = new Set();
  for (let o = 0; o < n; o++) for (let a = 0; a < K; a++) read.add(o * s + a * d - before);
  return Array.from({ length: M }, (_, i) => i).filter((i) => !read.has(i));
}

function slider(controls, label, cls, min, max) {
  const wrap = document.createElement("label");
  wrap.style.whiteSpace = "nowrap";
  const text = document.createElement("span");
  const input = document.createElement("input");
  input.type = "range";
  input.min = String(min);
  input.max = String(max);
  input.step = "1";
  input.className = cls;
  input.style.width = "70px";
  input.style.verticalAlign = "middle";
  wrap.appendChild(document.createTextNode(label));
  wrap.appendChild(input);
  wrap.appendChild(text);
  controls.appendChild(wrap);
  return { input, text };
}

function render({ model, el: root }) {
  const { controls, svg, formula, value: output } = frame(root, {
    rootClass: "cnnlib-conv-arithmetic", maxWidth: "760px", valueClass: "cnnlib-conv-arithmetic-output", block: true });

  // One slider per setting and axis (h: rows, v: columns); each sets one entry of its trait.
  const spec = [
    ["M_h ", "M", 0, 1, 16], ["M_v ", "M", 1, 1, 16],
    ["K_h ", "K", 0, 1, 7], ["K_v ", "K", 1, 1, 7],
    ["p_h ", "total_padding", 0, 0, 8], ["p_v ", "total_padding", 1, 0, 8],
    ["s_h ", "stride", 0, 1, 5], ["s_v ", "stride", 1, 1, 5],
    ["d_h ", "dilation", 0, 1, 4], ["d_v ", "dilation", 1, 1, 4],
  ];
  const sliders = spec.map(([label, name, axis, lo, hi]) => {
    const s = slider(controls, label, `cnnlib-conv-arithmetic-${name}-${"hv"[axis]}`, lo, hi);
    s.input.addEventListener("input", () => {
      const v = Number(s.input.value);
      const old = model.get(name);
      model.set(name, axis === 0 ? [v, old[1]] : [old[0], v]);
      model.save_changes();
      draw();
    });
    return { ...s, name, axis };
  });
  const pos = slider(controls, "output pixel ", "cnnlib-conv-arithmetic-position", 0, 0);
  const play = document.createElement("button");
  play.textContent = "▶ slide";
  play.className = "cnnlib-conv-arithmetic-play";
  controls.appendChild(play);

  function settings() {
    return {
      M: model.get("M"), K: model.get("K"), p: model.get("total_padding"),
      s: model.get("stride"), d: model.get("dilation"), position: model.get("position"),
    };
  }

  function draw() {
    const { M, K, p, s, d, position } = settings();
    for (const sl of sliders) {
      const v = model.get(sl.name)[sl.axis];
      sl.input.value = String(v);
      sl.text.textContent = ` ${v}`;
    }
    const out = [0, 1].map((a) => outputSize(M[a], K[a], p[a], s[a], d[a]));
    const span = [0, 1].map((a) => effectiveKernel(K[a], d[a]));
    const padded = [0, 1].map((a) => M[a] + p[a]);
    const split = [0, 1].map((a) => padSplit(p[a]));
    const lines = [0, 1].map((a) => {
      const x = "hv"[a];
      const top = `${M[a]} + ${p[a]} − ${d[a]}·(${K[a]} − 1) − 1`;
      const value = out[a] === null ? "no output" : String(out[a]);
      return `M'_${x} = ⌊(M_${x} + p_${x} − d_${x}(K_${x} − 1) − 1)/s_${x}⌋ + 1 = ⌊(${top})/${s[a]}⌋ + 1 = ${value}`;
    });
    formula.textContent = "Eq. (6.17); p is the total padding, as in the chapter (an odd total puts the extra " +
      "zero below / to the right):\n" + lines.join("\n");

    svg.replaceChildren();
    const rowsIn = padded[0], colsIn = padded[1];
    const ok = out[0] !== null && out[1] !== null;
    const skipped = ok ? [0, 1].map((a) => unread(M[a], K[a], p[a], s[a], d[a])) : [[], []];
    if (!ok) {
      const axis = out[0] === null ? 0 : 1;
      output.textContent = `no output: the dilated kernel (${span[0]} × ${span[1]}) is larger than the padded input ` +
        `(${padded[0]} × ${padded[1]}) along the ${axis === 0 ? "rows" : "columns"}`;
      output.style.color = "#b00020";
      pos.input.max = "0";
      pos.input.disabled = true;
      pos.text.textContent = "";
    } else {
      const never = [["rows", skipped[0]], ["columns", skipped[1]]].filter(([, list]) => list.length)
        .map(([name, list]) => `${name} ${list.join(", ")}`);
      output.textContent = `output: ${out[0]} × ${out[1]}   (input ${M[0]} × ${M[1]}, padded ${padded[0]} × ${padded[1]}, ` +
        `effective kernel ${span[0]} × ${span[1]})\n` +
        (never.length ? `input never read (pink, counted from 0): ${never.join("; ")}` : "every input pixel is read");
      output.style.color = "";
      pos.input.disabled = false;
    }
    const nOut = ok ? out[0] * out[1] : 1;
    const current = ok ? Math.min(Math.max(0, position), nOut - 1) : 0;
    const [i, k] = ok ? [Math.floor(current / out[1]), current % out[1]] : [0, 0];
    if (ok) {
      pos.input.max = String(nOut - 1);
      pos.input.value = String(current);
      pos.text.textContent = ` (${i}, ${k})`;
    }

    // Layout: padded input on the left, output on the right, same cell size.
    const width = 740, gap = 40, top = 22;
    const colsOut = ok ? out[1] : 1, rowsOut = ok ? out[0] : 1;
    const cell = Math.max(6, Math.min(26, Math.floor((width - gap - 20) / (colsIn + colsOut))));
    const height = top + cell * Math.max(rowsIn, rowsOut) + 8;
    const inputTitle = `padded input ${rowsIn} × ${colsIn} (grey: zero padding${ok && (skipped[0].length ||
      skipped[1].length) ? "; pink: never read" : ""})`;
    const x0 = Math.max(colsIn * cell + gap, 6.5 * inputTitle.length + 16);  // the output, clear of that title
    svg.setAttribute("viewBox", `0 0 ${Math.max(width, x0 + colsOut * cell + 4)} ${height}`);
    const label = (x, y, text) => { el("text", { x, y, "font-size": 12, fill: "#333" }, svg).textContent = text; };
    label(0, 14, inputTitle);
    const unreadRows = new Set(skipped[0]), unreadCols = new Set(skipped[1]);
    for (let r = 0; r < rowsIn; r++) {
      for (let c = 0; c < colsIn; c++) {
        const ri = r - split[0][0], ci = c - split[1][0];
        const inside = ri >= 0 && ri < M[0] && ci >= 0 && ci < M[1];
        const fill = !inside ? COLORS.pad : unreadRows.has(ri) || unreadCols.has(ci) ? COLORS.unread : COLORS.input;
        el("rect", { x: c * cell, y: top + r * cell, width: cell, height: cell, fill, stroke: COLORS.grid,
          "stroke-width": 0.5 }, svg);
      }
    }
    if (ok) {
      el("rect", { x: k * s[1] * cell, y: top + i * s[0] * cell, width: span[1] * cell, height: span[0] * cell,
        fill: "none", stroke: COLORS.span, "stroke-width": 2, "stroke-dasharray": "5 3" }, svg);
      for (const [r, c] of taps(i, k, K, s, d)) {
        el("rect", { x: c * cell + 2, y: top + r * cell + 2, width: cell - 4, height: cell - 4, fill: COLORS.tap,
          "fill-opacity": 0.55, stroke: COLORS.tap }, svg);
      }
      label(x0, 14, `output ${out[0]} × ${out[1]} (click a pixel)`);
      for (let r = 0; r < out[0]; r++) {
        for (let c = 0; c < out[1]; c++) {
          const here = r === i && c === k;
          const rect = el("rect", { x: x0 + c * cell, y: top + r * cell, width: cell, height: cell,
            fill: here ? COLORS.out : "#f4fbf4", stroke: COLORS.grid, "stroke-width": 0.5, cursor: "pointer" }, svg);
          rect.addEventListener("click", () => {
            model.set("position", r * out[1] + c);
            model.save_changes();
            draw();
          });
        }
      }
    }
  }

  pos.input.addEventListener("input", () => {
    model.set("position", Number(pos.input.value));
    model.save_changes();
    draw();
  });

  let timer = null;
  function stop() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    play.textContent = "▶ slide";
  }
  play.addEventListener("click", () => {
    if (timer !== null) return stop();
    play.textContent = "■ stop";
    timer = setInterval(() => {
      const max = Number(pos.input.max);
      model.set("position", max > 0 ? (Number(pos.input.value) + 1) % (max + 1) : 0);
      model.save_changes();
      draw();
    }, 600);
  });

  const names = ["M", "K", "total_padding", "stride", "dilation", "position"];
  for (const name of names) model.on(`change:${name}`, draw);
  draw();
  return () => {
    stop();
    for (const name of names) model.off(`change:${name}`, draw);
  };
}

export default { render };
