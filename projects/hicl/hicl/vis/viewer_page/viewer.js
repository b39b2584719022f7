'use strict';
(function () {
  const data = JSON.parse(document.getElementById('scene-data').textContent);
  function bytes(text64) {
    const text = atob(text64);
    const out = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
    return out;
  }
  const xyz = new Float32Array(bytes(data.xyz).buffer);
  const n = xyz.length / 3;
  const layers = data.layers.map(function (layer) { return Object.assign({}, layer, {rgb: bytes(layer.rgb)}); });
  const lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < 3; a++) {
      lo[a] = Math.min(lo[a], xyz[3 * i + a]);
      hi[a] = Math.max(hi[a], xyz[3 * i + a]);
    }
  }
  const centre = [0, 1, 2].map(function (a) { return (lo[a] + hi[a]) / 2; });
  const ext = [0, 1, 2].map(function (a) { return hi[a] - lo[a]; });
  const radius = Math.max(0.5 * Math.hypot(ext[0], ext[1], ext[2]), 1e-3);
  // Mean spacing of points spread over the box's surface: the auto point size covers it on screen.
  const spacing = Math.sqrt(Math.max(2 * (ext[0] * ext[1] + ext[1] * ext[2] + ext[2] * ext[0]), 1e-6) / n);
  const BACKGROUND = data.background;
  const HOME = {yaw: -0.6, pitch: 0.8, zoom: 0.9, panX: 0, panY: 0};
  const view = Object.assign({}, HOME);
  let pointSize = 0;
  let current = 0;
  const canvas = document.getElementById('view');
  const context = canvas.getContext('2d');
  let image = null, depth = null, pending = false, left = 0;
  // Pixels per metre; the scene is centred in the canvas right of the panel (at most a third of the width).
  function viewScale() {
    return view.zoom * 0.5 * Math.min(canvas.width - left, canvas.height) / radius;
  }

  function draw() {
    pending = false;
    const w = canvas.width, h = canvas.height, pixels = image.data, rgb = layers[current].rgb;
    for (let p = 0; p < pixels.length; p += 4) {
      pixels[p] = BACKGROUND[0]; pixels[p + 1] = BACKGROUND[1]; pixels[p + 2] = BACKGROUND[2]; pixels[p + 3] = 255;
    }
    depth.fill(Infinity);
    const scale = viewScale(), cu = (w + left) / 2;
    const cy = Math.cos(view.yaw), sy = Math.sin(view.yaw), ce = Math.cos(view.pitch), se = Math.sin(view.pitch);
    const size = pointSize || Math.min(8, Math.max(1, Math.round(scale * spacing)));
    const half = size >> 1;
    for (let i = 0; i < n; i++) {
      const x = xyz[3 * i] - centre[0], y = xyz[3 * i + 1] - centre[1], z = xyz[3 * i + 2] - centre[2];
      const right = cy * x - sy * y, ahead = sy * x + cy * y;
      const d = ahead * ce - z * se, up = ahead * se + z * ce;
      const u = Math.round(cu + scale * (right + view.panX)) - half;
      const v = Math.round(h / 2 - scale * (up + view.panY)) - half;
      if (u + size <= 0 || v + size <= 0 || u >= w || v >= h) continue;
      for (let b = Math.max(v, 0); b < Math.min(v + size, h); b++) {
        for (let a = Math.max(u, 0); a < Math.min(u + size, w); a++) {
          const k = b * w + a;
          if (d < depth[k]) {
            depth[k] = d;
            pixels[4 * k] = rgb[3 * i]; pixels[4 * k + 1] = rgb[3 * i + 1]; pixels[4 * k + 2] = rgb[3 * i + 2];
          }
        }
      }
    }
    context.putImageData(image, 0, 0);
  }
  function redraw() {
    if (!pending) { pending = true; requestAnimationFrame(draw); }
  }
  function resize() {
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.max(1, Math.floor(canvas.clientWidth * ratio));
    canvas.height = Math.max(1, Math.floor(canvas.clientHeight * ratio));
    left = Math.min(document.getElementById('panel').getBoundingClientRect().right * ratio, canvas.width / 3);
    image = context.createImageData(canvas.width, canvas.height);
    depth = new Float32Array(canvas.width * canvas.height);
    draw();
  }

  const radios = layers.map(function (layer, index) {
    const label = document.createElement('label');
    const radio = document.createElement('input');
    radio.type = 'radio'; radio.name = 'layer'; radio.value = String(index);
    radio.addEventListener('change', function () { setLayer(index); });
    label.appendChild(radio);
    label.appendChild(document.createTextNode(' ' + (index < 9 ? (index + 1) + '. ' : '') + layer.name));
    document.getElementById('layers').appendChild(label);
    return radio;
  });
  function setLayer(index) {
    current = index;
    radios[index].checked = true;
    const layer = layers[index], legend = document.getElementById('legend');
    document.getElementById('note').textContent = layer.note;
    legend.textContent = '';
    layer.legend.forEach(function (entry) {
      const item = document.createElement('li'), swatch = document.createElement('span');
      swatch.style.background = 'rgb(' + entry[1].join(',') + ')';
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(entry[0]));
      legend.appendChild(item);
    });
    document.body.dataset.layer = layer.name;
    redraw();
  }
  function layerFromHash() {
    const match = /(?:^#|&)layer=([^&]*)/.exec(location.hash);
    if (!match) return 0;
    const wanted = decodeURIComponent(match[1]).toLowerCase();
    const index = layers.findIndex(function (layer) { return layer.name.toLowerCase() === wanted; });
    if (index >= 0) return index;
    const number = parseInt(wanted, 10);
    return number >= 1 && number <= layers.length ? number - 1 : 0;
  }

  let drag = null;
  canvas.addEventListener('contextmenu', function (event) { event.preventDefault(); });
  canvas.addEventListener('pointerdown', function (event) {
    drag = {x: event.clientX, y: event.clientY, pan: event.shiftKey || event.button === 2};
    canvas.setPointerCapture(event.pointerId);
  });
  canvas.addEventListener('pointermove', function (event) {
    if (!drag) return;
    const dx = event.clientX - drag.x, dy = event.clientY - drag.y;
    drag.x = event.clientX; drag.y = event.clientY;
    if (drag.pan) {
      const scale = viewScale() / (window.devicePixelRatio || 1);
      view.panX += dx / scale; view.panY -= dy / scale;
    } else {
      view.yaw -= 0.01 * dx;
      view.pitch = Math.min(Math.PI / 2, Math.max(-Math.PI / 2, view.pitch + 0.01 * dy));
    }
    redraw();
  });
  canvas.addEventListener('pointerup', function () { drag = null; });
  canvas.addEventListener('wheel', function (event) {
    event.preventDefault();
    view.zoom *= Math.exp(-0.0015 * event.deltaY);
    redraw();
  }, {passive: false});
  canvas.addEventListener('dblclick', function () { Object.assign(view, HOME); redraw(); });
  window.addEventListener('keydown', function (event) {
    const number = parseInt(event.key, 10);
    if (number >= 1 && number <= layers.length) setLayer(number - 1);
  });
  const slider = document.getElementById('size');
  slider.addEventListener('input', function () {
    pointSize = parseInt(slider.value, 10);
    document.getElementById('size-value').textContent = pointSize ? String(pointSize) : 'auto';
    redraw();
  });
  window.addEventListener('resize', resize);
  window.addEventListener('hashchange', function () { setLayer(layerFromHash()); });

  document.getElementById('title').textContent = data.title;
  document.getElementById('count').textContent = n === data.totalPoints ? n + ' points'
    : n + ' of ' + data.totalPoints + ' points (uniform random subsample)';
  document.body.dataset.points = String(n);
  setLayer(layerFromHash());
  resize();
})();
