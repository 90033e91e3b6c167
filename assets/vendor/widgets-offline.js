// The CNN Book: make the embedded (kernel-free) widgets load everything from the book itself
// rather than from a CDN. Loaded after require.js and before the html-manager's embed-amd.js
// (see nb_ipywidgets_js in _config.yml); tests/browser checks that it works.
(function () {
  "use strict";
  // This file's folder, whatever the depth of the page: .../_static/vendor/
  var here = new URL(".", document.currentScript.src).href;
  window.requirejs.config({
    paths: {
      // anywidget's model and view (module "anywidget", version ~0.11.*): dist/index.js of
      // the npm package is an AMD module, define(["@jupyter-widgets/base"], ...).
      anywidget: here + "anywidget/index",
      // embed-amd.js finds its fonts relative to this module's URL.
      "@jupyter-widgets/html-manager/dist": here + "html-manager",
      // embed-amd.js also defines these modules by name; each bundle puts its fonts next to
      // its own module URL, which without a path would be <page folder>/@jupyter-widgets/
      // (fonts then 404 at random, whenever an icon is drawn). The files are never fetched.
      "@jupyter-widgets/base": here + "html-manager/base",
      "@jupyter-widgets/base7": here + "html-manager/base7",
      "@jupyter-widgets/controls": here + "html-manager/controls",
      "@jupyter-widgets/controls7": here + "html-manager/controls7",
      "@jupyter-widgets/html-manager": here + "html-manager/html-manager",
    },
  });
  window.__jupyter_widgets_assets_path__ = here + "html-manager/";
  // The html-manager falls back to <cdn><module>@<version>/dist/index.js for a module that
  // require.js cannot find; it reads data-jupyter-widgets-cdn from the page's script tags.
  // Point the fallback at this folder, so that a missing module fails locally (and shows up
  // in tests/browser) instead of reaching out to the internet.
  document.currentScript.setAttribute("data-jupyter-widgets-cdn", here);
  // ipywidgets typesets labels with the MathJax 2 call MathJax.Hub.Queue(["Typeset", Hub, el]);
  // the book loads MathJax 3 (deferred, so it exists by DOMContentLoaded): translate the call.
  document.addEventListener("DOMContentLoaded", function () {
    var mj = window.MathJax;
    if (!mj || mj.Hub || !mj.startup) return;
    mj.Hub = {
      Queue: function () {
        Array.prototype.forEach.call(arguments, function (job) {
          if (Array.isArray(job) && job[0] === "Typeset") {
            mj.startup.promise = mj.startup.promise.then(function () {
              return mj.typesetPromise(job[2] ? [job[2]] : undefined);
            });
          }
        });
      },
    };
  });
})();
