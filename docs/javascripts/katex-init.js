// Render the math that pymdownx.arithmatex (generic mode) and the rst_math hook mark
// with class "arithmatex", using the KaTeX copy vendored beside this file (no CDN).
function renderMath() {
  for (const element of document.querySelectorAll(".arithmatex")) {
    renderMathInElement(element, {
      delimiters: [
        { left: "\\(", right: "\\)", display: false },
        { left: "\\[", right: "\\]", display: true },
      ],
      throwOnError: false,
    });
  }
}
if (typeof document$ !== "undefined") {
  document$.subscribe(renderMath);  // mkdocs-material's instant navigation
} else {
  document.addEventListener("DOMContentLoaded", renderMath);
}
