// After a refused form the list of what to correct takes the focus, so a screen reader reads it first and
// a keyboard user starts from it (the box has tabindex="-1" for this).
document.addEventListener("DOMContentLoaded", () => {
  const summary = document.getElementById("error-summary");
  if (summary) summary.focus();
});
