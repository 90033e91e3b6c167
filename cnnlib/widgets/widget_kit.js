// Shared by the book's explorers: cnnlib.widgets._esm.esm_source() puts this file in front of
// each explorer's module (anywidget ships one self-contained ES module per widget, and the
// offline book loads nothing from elsewhere), so these helpers are written once.

const SVG = "http://www.w3.org/2000/svg";

// An SVG element with its attributes, appended to parent when one is given.
function el(tag, attrs = {}, parent = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (parent) parent.appendChild(node);
  return node;
}

// The explorer's frame: the root element gets its CSS class (the browser tests look for it),
// then a wrapping row of controls, the drawing, and a monospace readout of a formula and a
// bold value (valueClass, read by the tests). block: formula and value on lines of their own.
function frame(root, { rootClass, maxWidth, valueClass, block = false }) {
  root.classList.add(rootClass);
  root.style.fontFamily = "sans-serif";
  root.style.fontSize = "13px";
  root.style.maxWidth = maxWidth;

  const controls = document.createElement("div");
  Object.assign(controls.style, { display: "flex", flexWrap: "wrap", gap: "6px 14px", alignItems: "center",
                                  marginBottom: "6px" });
  root.appendChild(controls);

  const svg = el("svg", { width: "100%", role: "img" }, root);

  const readout = document.createElement("div");
  Object.assign(readout.style, { fontFamily: "monospace", marginTop: "4px", whiteSpace: block ? "pre" : "normal" });
  const formula = document.createElement(block ? "div" : "span");
  const value = document.createElement(block ? "div" : "b");
  value.className = valueClass;
  value.style.fontWeight = "bold";
  readout.appendChild(formula);
  readout.appendChild(value);
  root.appendChild(readout);
  return { controls, svg, formula, value };
}
