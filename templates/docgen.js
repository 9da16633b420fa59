// docgen: a "zoom" button on each diagram toggles fit-to-width and natural size.
// Local and dependency-free: the site makes no request outside itself.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".docgen-diagram").forEach(function (box) {
    if (!box.querySelector("svg")) {
      return;
    }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "docgen-zoom";
    button.textContent = "zoom";
    button.title = "Toggle natural size and fit to width";
    button.addEventListener("click", function () {
      box.classList.toggle("docgen-zoomed");
    });
    box.insertBefore(button, box.firstChild);
  });
});

// The class index: filter the lists by what is typed (name, module, summary).
document.addEventListener("DOMContentLoaded", function () {
  var input = document.getElementById("docgen-class-filter");
  if (!input) {
    return;
  }
  var count = document.getElementById("docgen-filter-count");
  var items = Array.prototype.slice.call(document.querySelectorAll(".docgen-class-list li"));
  function apply() {
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    items.forEach(function (li) {
      var text = li.textContent.toLowerCase();
      var hit = words.every(function (w) { return text.indexOf(w) >= 0; });
      li.style.display = hit ? "" : "none";
      shown += hit ? 1 : 0;
    });
    document.querySelectorAll(".docgen-class-list").forEach(function (list) {
      var any = list.querySelector("li:not([style*='none'])") !== null;
      list.style.display = any ? "" : "none";
      var heading = list.previousElementSibling;
      if (heading && /^H[1-6]$/.test(heading.tagName)) {
        heading.style.display = any ? "" : "none";
      }
    });
    count.textContent = words.length ? shown + " shown" : "";
  }
  input.addEventListener("input", apply);
});
