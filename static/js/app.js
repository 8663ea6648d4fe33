// Site behaviour lives here, not inline, so a Content-Security-Policy can forbid
// inline script.
document.addEventListener("change", (event) => {
  // Filter selects on the customer list submit as soon as they change.
  const field = event.target.closest("[data-autosubmit]");
  if (field && field.form) field.form.requestSubmit();
});

// A large import's page polls its progress and reloads when the job has finished.
const importProgress = document.getElementById("import-progress");
if (importProgress) {
  const url = importProgress.dataset.progressUrl;
  const bar = importProgress.querySelector("[data-progress-bar]");
  const show = (selector, text) => {
    const node = importProgress.querySelector(selector);
    if (node) node.textContent = text;
  };
  const poll = async () => {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const state = await response.json();
        if (!state.running) {
          window.location.reload();
          return;
        }
        show("[data-progress-status]", state.status_label);
        show("[data-progress-rows]", state.rows.toLocaleString());
        if (state.total) {
          show("[data-progress-total]", state.total.toLocaleString());
          const percent = Math.min(100, Math.round((100 * state.rows) / state.total));
          bar.style.width = `${percent}%`;
          bar.parentElement.setAttribute("aria-valuenow", String(percent));
        }
      }
    } catch (error) {
      // A dropped request: try again on the next tick.
    }
    window.setTimeout(poll, 1000);
  };
  window.setTimeout(poll, 500);
}
