// Network explorer, part 3 of 3: the widget. A trained CNN (LeNet-5 in the book) running in the
// page: the reader draws a digit on a 28 x 28 canvas (or picks a test digit); every layer is
// recomputed in the browser from the weights embedded in the widget state (network_explorer_net.js)
// and redrawn (network_explorer_draw.js). A click on a unit outlines its receptive field on the
// input and explains the unit: a zoom of its neighbourhood (squares of 30 px, so that a finger can
// choose any unit on a phone), its favourite patches of the training set, the numbers of Eq. (6.14).
// frame() comes from widget_kit.js.

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
  // The top patches arrive compressed; they are unpacked once, in the background.
  const patchData = model.get("patches") || {};
  let patchBytes = null;
  if (patchData.data && typeof DecompressionStream === "function") {
    inflate(patchData.data).then((bytes) => { patchBytes = bytes; if (selected) showDetail(); },
                                 () => { patchData.layers = null; });
  }

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
  for (const control of [picker, clear]) control.style.minHeight = `${TOUCH + 4}px`;
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
    }
    // The whole row is the target (on a phone a bar of fc1 is 3 px wide): the bar nearest the click,
    // then the zoom below offers the neighbours as squares a finger can hit.
    row.addEventListener("click", (ev) => {
      const centres = rects.map((r) => { const b = r.parentNode.getBoundingClientRect(); return b.left + b.width / 2; });
      const j = centres.reduce((p, x, q) => (Math.abs(x - ev.clientX) < Math.abs(centres[p] - ev.clientX) ? q : p), 0);
      select({ index: g.first, c: j, i: 0, k: 0, stage: s });
    });
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
    // Keep what the click explains in view: the zoom and the patches below the unit's name (scrolling
    // down, "nearest" brings their bottom into view, and the name above comes with them).
    const top = detail.children[1] || detail;
    if (typeof top.scrollIntoView === "function") top.scrollIntoView({ block: "nearest", behavior: "smooth" });
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
    const top = div(detail, { display: "flex", flexWrap: "wrap", gap: "8px 20px", alignItems: "flex-start", margin: "4px 0" });
    const values = outs[g.last], map = layer.shape.length === 3;
    const [H, W] = map ? layer.shape.slice(1) : [1, layer.shape[0]];
    zoomGrid(top, { values, offset: map ? c * H * W : 0, H, W, i: map ? i : 0, k: map ? k : c, vmax: maxAbs(values),
                    signed: values.some((v) => v < 0), what: map ? `${g.title}, channel ${c}` : g.title,
                    onPick: (a, b) => select({ index, c: map ? c : b, i: map ? a : 0, k: map ? b : 0, stage }) });
    const mine = patchData.layers && patchData.layers[String(g.first)];
    if (mine && patchBytes) {
      patchGallery(top, patchesOf(patchBytes, mine.units[c]), {
        what: map ? `channel ${c}` : `unit ${c}`, source: patchData.source, positive: mine.positive[c],
        field: map ? `${mine.rows} × ${mine.cols}` : null });
    } else if (mine) {
      div(top, { fontSize: "11px", maxWidth: "300px", color: "#555" }, typeof DecompressionStream === "function"
        ? "unpacking the favourite patches…" : "this browser cannot unpack the favourite patches (DecompressionStream)");
    }
    const best = detailChannel !== null || terms.kind !== "conv" ? detailChannel
      : terms.channels.reduce((p, t) => (Math.abs(t.sum) > Math.abs(terms.channels[p].sum) ? t.channel : p), 0);
    termsView(detail, terms, layer, i, k, best, actText, (ch) => { detailChannel = ch; showDetail(); });
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
