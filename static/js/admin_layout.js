/* Layout editor: reorder the widget rows of a dashboard form.
 *
 * The form posts its rows in DOM order, so moving an <li> is all it takes. Up/down buttons
 * work from the keyboard (focus stays on the moved button); SortableJS, when present, adds
 * drag and drop. No inline scripts: this file is loaded with the page's CSP nonce.
 */
(function () {
  "use strict";

  function move(item, direction) {
    var list = item.parentNode;
    if (direction === "up" && item.previousElementSibling) {
      list.insertBefore(item, item.previousElementSibling);
    } else if (direction === "down" && item.nextElementSibling) {
      list.insertBefore(item.nextElementSibling, item);
    }
  }

  function init() {
    document.querySelectorAll("[data-sortable]").forEach(function (list) {
      list.addEventListener("click", function (event) {
        var button = event.target.closest("button[data-move]");
        if (!button) { return; }
        event.preventDefault();
        move(button.closest("li"), button.dataset.move);
        button.focus();
      });
      if (window.Sortable) {
        window.Sortable.create(list, { handle: ".layout-item__handle", animation: 120 });
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
