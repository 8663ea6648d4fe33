// The owners' dashboard: charts from the data the page puts in a JSON script
// element (no inline script), and the cohort table's shading. Every chart has
// its numbers in a table beside it, so nothing here is needed to read them.
(function () {
  "use strict";

  const source = document.getElementById("dashboard-data");
  if (!source) return;
  const data = JSON.parse(source.textContent);

  function shadeCohorts() {
    document.querySelectorAll(".cohort-heatmap td[data-share]").forEach((cell) => {
      const share = Math.max(0, Math.min(1, parseFloat(cell.dataset.share)));
      // Blue, stronger with the share; white text on the darkest cells.
      cell.style.backgroundColor = `rgba(13, 110, 253, ${0.08 + 0.72 * share})`;
      if (share > 0.55) cell.classList.add("text-white");
    });
  }
  shadeCohorts();

  if (typeof Chart === "undefined") return;
  Chart.defaults.maintainAspectRatio = true;
  Chart.defaults.aspectRatio = 2.2;

  function chart(id, config) {
    const canvas = document.getElementById(id);
    if (canvas) new Chart(canvas, config);
  }

  const percentAxis = {
    min: 0,
    max: 100,
    ticks: { callback: (value) => `${value}%` },
  };

  chart("chart-retention", {
    type: "line",
    data: {
      labels: data.retention.labels,
      datasets: [
        { label: "Retention %", data: data.retention.retention, borderColor: "#198754", spanGaps: false },
        { label: "Churn %", data: data.retention.churn, borderColor: "#dc3545", spanGaps: false },
      ],
    },
    options: { scales: { y: percentAxis } },
  });

  chart("chart-revenue", {
    type: "bar",
    data: {
      labels: data.revenue.labels,
      datasets: [
        { label: "Returning customers", data: data.revenue.returning, backgroundColor: "#0d6efd" },
        { label: "New customers", data: data.revenue.new, backgroundColor: "#ffc107" },
      ],
    },
    options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
  });

  chart("chart-satisfaction", {
    type: "line",
    data: {
      labels: data.satisfaction.labels,
      datasets: [
        { label: "CSAT %", data: data.satisfaction.csat, borderColor: "#0d6efd", yAxisID: "y" },
        { label: "NPS", data: data.satisfaction.nps, borderColor: "#6f42c1", yAxisID: "nps" },
      ],
    },
    options: {
      scales: {
        y: { ...percentAxis, position: "left" },
        nps: { min: -100, max: 100, position: "right", grid: { drawOnChartArea: false } },
      },
    },
  });

  chart("chart-rfm", {
    type: "bar",
    data: {
      labels: data.rfm.labels,
      datasets: [
        { label: "Now", data: data.rfm.customers, backgroundColor: "#0d6efd" },
        { label: "Previous period", data: data.rfm.previous, backgroundColor: "#adb5bd" },
      ],
    },
    options: { indexAxis: "y", aspectRatio: 1.4, scales: { x: { beginAtZero: true } } },
  });
})();
