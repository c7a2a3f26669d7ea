// MathJax 3 for pymdownx.arithmatex (generic mode); the script itself is served from the site
// (docs/assets/mathjax, copied from the mathjax npm package by `make docs`): no CDN.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex",
  },
};
