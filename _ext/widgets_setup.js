// Loaded between require.js and the widget manager (see _ext/book_assets.py).
(function () {
  // 1. The widget manager's webpack bundle finds its fonts next to the AMD module's URL.
  //    Its modules are defined inline, so require.js would place them beside the page;
  //    point the module path at the served copy instead.
  var base = new URL(".", document.currentScript.src).href;   // .../_static/vendor/
  window.require.config({paths: {"@jupyter-widgets/html-manager/dist": base + "html-manager"}});

  // 2. The widget manager typesets widget labels through MathJax 2's MathJax.Hub.Queue;
  //    the book runs MathJax 3, which has no Hub.  Give whatever object window.MathJax is
  //    (the configuration first, MathJax itself once loaded) a non-enumerable Hub whose
  //    Queue typesets the element with MathJax 3 once MathJax has started.
  function typesetLater(job, tries) {
    var el = Array.isArray(job) ? job[2] : undefined;
    var mj = window.MathJax;
    if (mj && mj.startup && mj.startup.promise && mj.typesetPromise) {
      mj.startup.promise.then(function () { return mj.typesetPromise(el ? [el] : undefined); })
        .catch(function (err) { console.warn("MathJax could not typeset a widget label", err); });
    } else if (tries < 200) {
      setTimeout(function () { typesetLater(job, tries + 1); }, 50);
    }
  }
  function withHub(obj) {
    if (obj && typeof obj === "object" && !Object.prototype.hasOwnProperty.call(obj, "Hub")) {
      Object.defineProperty(obj, "Hub", {
        enumerable: false, configurable: true,
        value: {Queue: function () {
          for (var i = 0; i < arguments.length; i++) typesetLater(arguments[i], 0);
        }}
      });
    }
    return obj;
  }
  var current = withHub(window.MathJax);
  Object.defineProperty(window, "MathJax", {
    configurable: true,
    get: function () { return current; },
    set: function (value) { current = withHub(value); }
  });
})();
