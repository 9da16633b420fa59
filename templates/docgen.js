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
  var lists = Array.prototype.slice.call(document.querySelectorAll(".docgen-class-list"));
  function headingOf(list) {
    var heading = list.previousElementSibling;
    return heading && /^H[1-6]$/.test(heading.tagName) ? heading : null;
  }
  function apply() {
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    lists.forEach(function (list) {
      var heading = headingOf(list);
      var context = heading ? heading.textContent.toLowerCase() : "";
      var any = false;
      list.querySelectorAll("li").forEach(function (li) {
        var text = li.textContent.toLowerCase() + " " + context;
        var hit = words.every(function (w) { return text.indexOf(w) >= 0; });
        li.style.display = hit ? "" : "none";
        any = any || hit;
        shown += hit ? 1 : 0;
      });
      list.style.display = any ? "" : "none";
      if (heading) {
        heading.style.display = any ? "" : "none";
      }
    });
    count.textContent = words.length ? shown + " shown" : "";
  }
  input.addEventListener("input", apply);
});
