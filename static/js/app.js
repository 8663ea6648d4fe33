// Site behaviour lives here, not inline, so a Content-Security-Policy can forbid
// inline script.
document.addEventListener("change", (event) => {
  // Filter selects on the customer list submit as soon as they change.
  const field = event.target.closest("[data-autosubmit]");
  if (field && field.form) field.form.requestSubmit();
});
