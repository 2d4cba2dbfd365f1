/* Saved views menu: the "save" form sends the filters applied right now.
 *
 * The dashboard keeps the applied filters in the URL (dashboard.js updates it after each run),
 * so the form's hidden `consulta` field takes the current query string when it is submitted;
 * without JavaScript it keeps the one the page was rendered with.
 */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || form.dataset.role !== "save-view") { return; }
    form.querySelector("input[name=consulta]").value = location.search.replace(/^\?/, "");
  });
})();
