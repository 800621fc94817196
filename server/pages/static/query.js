// Optional comfort for the query editor: Ctrl+Enter (or Cmd+Enter) runs the query.
// The page works the same without this script; the form submits by GET.
document.addEventListener("DOMContentLoaded", function () {
  var editor = document.getElementById("query");
  if (!editor || !editor.form) {
    return;
  }
  editor.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      editor.form.submit();
    }
  });
});
