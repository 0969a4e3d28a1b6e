// config_versions: live JSON check for the config editor. The server checks again on
// save; this only spares a round trip. No inline script, so it works under a CSP.
"use strict";
{
    function lineAndColumn(text, index) {
        const before = text.slice(0, index);
        const line = before.split("\n").length;
        return [line, index - before.lastIndexOf("\n")];
    }

    function describe(error, text) {
        const message = String(error.message || error);
        const lineCol = /line (\d+) column (\d+)/.exec(message);
        if (lineCol) {
            return `Invalid JSON on line ${lineCol[1]}, column ${lineCol[2]}: ${message}`;
        }
        const position = /position (\d+)/.exec(message);
        if (position) {
            const [line, column] = lineAndColumn(text, Number(position[1]));
            return `Invalid JSON on line ${line}, column ${column}: ${message}`;
        }
        return `Invalid JSON: ${message}`;
    }

    function check(area, status) {
        const text = area.value;
        let problem = "";
        try {
            const value = JSON.parse(text);
            if (value === null || typeof value !== "object" || Array.isArray(value)) {
                problem = "The config must be a JSON object ({...}).";
            }
        } catch (error) {
            problem = describe(error, text);
        }
        status.textContent = problem || "Valid JSON.";
        status.classList.toggle("cv-invalid", Boolean(problem));
        area.setAttribute("aria-invalid", problem ? "true" : "false");
    }

    function setUp(area) {
        const wrap = area.closest(".cv-json-editor-wrap");
        const status = wrap && wrap.querySelector(".cv-json-status");
        if (!status) {
            return;
        }
        status.id = `${area.id}_status`;
        const described = area.getAttribute("aria-describedby");
        area.setAttribute("aria-describedby", described ? `${described} ${status.id}` : status.id);
        let timer = null;
        area.addEventListener("input", () => {
            clearTimeout(timer);
            timer = setTimeout(() => check(area, status), 250);
        });
        check(area, status);
    }

    function init() {
        document.querySelectorAll("textarea.cv-json-editor").forEach(setUp);
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", init);
    } else {
        init();
    }
}
