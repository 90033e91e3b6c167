// Network explorer, part 1 of 3: the network itself (esm_source puts widget_kit.js, this file,
// network_explorer_draw.js and network_explorer.js together into the one ES module the browser
// gets). Decoding the embedded weights, the forward pass, receptive fields, one unit's terms,
// MNIST's normalisation of a drawing, the top patches: plain functions, exported for the tests
// that run them under Node. No imports, no CDN.
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

export function argmax(values) {
  let best = 0;
  for (let j = 1; j < values.length; j++) if (values[j] > values[best]) best = j;
  return best;
}

// The top patches (cnnlib.widgets.top_patches): the bytes are zlib-compressed uint8 pixels (255 is
// ink), unpacked with the browser's DecompressionStream (Chrome 80, Firefox 113, Safari 16.4, Node 18).
export async function inflate(b64) {
  const stream = new Blob([decodeBase64(b64)]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

// One stage's (or channel's) patches as {pixels: Float64Array in [0, 1], rows, cols, value, i, k}:
// entries [offset, rows, cols, value, i, k] into the inflated bytes.
export function patchesOf(bytes, entries) {
  return entries.map(([offset, rows, cols, value, i, k]) => ({
    pixels: Float64Array.from(bytes.subarray(offset, offset + rows * cols), (v) => v / 255), rows, cols, value, i, k }));
}
