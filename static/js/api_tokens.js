// The API token page's "Copy" button: copies the secret shown once.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy-target]");
  if (!button) return;
  const field = document.querySelector(button.dataset.copyTarget);
  if (!field) return;
  field.select();
  navigator.clipboard.writeText(field.value).then(() => {
    button.textContent = "Copied";
  });
});
