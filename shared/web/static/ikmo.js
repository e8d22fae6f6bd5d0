// After a refused form the list of what to correct takes the focus, so a screen reader reads it first and
// a keyboard user starts from it (the box has tabindex="-1" for this).
document.addEventListener("DOMContentLoaded", () => {
  const summary = document.getElementById("error-summary");
  if (summary) summary.focus();
});

// A form with data-confirm asks before it does what cannot be undone. The question sits in an attribute
// (escaped once by the template, decoded once by the browser), so "O'Brien & Söhne" reads as typed.
document.addEventListener("submit", (event) => {
  const question = event.target instanceof HTMLFormElement ? event.target.dataset.confirm : undefined;
  if (question && !window.confirm(question)) event.preventDefault();
});
