// Student notebooks next to the launch buttons: for each Colab or Binder launch link that
// sphinx-book-theme puts on a notebook page, add a second one that opens the page's student
// edition (exercises without solutions) from the `student` branch, which CI's publish step
// writes with scripts/student_branch.sh (see instructors.md). No request is made here.
"use strict";

// The student-branch URL for a launch URL, or null when it is not a Colab or Binder link.
function studentUrl(href) {
  const colab = /^(https:\/\/colab\.research\.google\.com\/github\/[^/]+\/[^/]+\/blob\/)[^/]+(\/.*)$/;
  const binder = /^(https:\/\/mybinder\.org\/v2\/gh\/[^/]+\/[^/]+\/)[^?]+(\?.*)$/;
  for (const re of [colab, binder]) {
    const m = re.exec(href);
    if (m) return m[1] + "student" + m[2];
  }
  return null;
}

function addStudentLinks(doc) {
  const links = Array.from(doc.querySelectorAll("a[href]")).filter(
    (a) => studentUrl(a.href) && !a.classList.contains("cnnbook-student-launch"));
  for (const a of links) {
    const item = a.closest("li") || a;
    const copy = item.cloneNode(true);
    const link = copy.tagName === "A" ? copy : copy.querySelector("a");
    link.href = studentUrl(a.href);
    link.classList.add("cnnbook-student-launch");
    const service = a.href.includes("colab") ? "Colab" : "Binder";
    link.title = `Open the student notebook (exercises without solutions) on ${service}`;
    const text = link.querySelector(".btn__text-container") || link;
    text.textContent = `${service}: student notebook`;
    item.after(copy);
  }
}

if (typeof module !== "undefined" && module.exports) {
  module.exports = { studentUrl, addStudentLinks };
} else if (typeof document !== "undefined") {
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => addStudentLinks(document));
  } else {
    addStudentLinks(document);
  }
}
