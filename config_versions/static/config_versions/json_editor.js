// config_versions: live JSON check for the config editor. The server checks again on
// save; this only spares a round trip. No inline script, so it works under a CSP.
"use strict";
{
    const SPACE = " \t\n\r";
    const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

    // Where the text stops being JSON. Browsers word their JSON.parse errors
    // differently and some do not say where, so a small scanner finds the place.
    function errorOffset(text) {
        let i = 0;
        const fail = () => {
            throw new RangeError(String(i));
        };
        const space = () => {
            while (i < text.length && SPACE.includes(text[i])) {
                i++;
            }
        };
        const string = () => {
            i++;
            while (i < text.length) {
                const c = text[i];
                if (c === '"') {
                    i++;
                    return;
                }
                if (c === "\\") {
                    i++;
                    if (text[i] === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) {
                        i += 5;
                    } else if (i < text.length && '"\\/bfnrt'.includes(text[i])) {
                        i++;
                    } else {
                        fail();
                    }
                } else if (c < " ") {
                    fail();
                } else {
                    i++;
                }
            }
            fail();
        };
        const value = () => {
            space();
            const c = text[i];
            if (c === "{" || c === "[") {
                const close = c === "{" ? "}" : "]";
                i++;
                space();
                if (text[i] === close) {
                    i++;
                    return;
                }
                for (;;) {
                    if (c === "{") {
                        space();
                        if (text[i] !== '"') {
                            fail();
                        }
                        string();
                        space();
                        if (text[i] !== ":") {
                            fail();
                        }
                        i++;
                    }
                    value();
                    space();
                    if (text[i] === ",") {
                        i++;
                    } else if (text[i] === close) {
                        i++;
                        return;
                    } else {
                        fail();
                    }
                }
            }
            if (c === '"') {
                string();
                return;
            }
            NUMBER.lastIndex = i;
            const number = NUMBER.exec(text);
            if (number) {
                i += number[0].length;
                return;
            }
            for (const word of ["true", "false", "null"]) {
                if (text.startsWith(word, i)) {
                    i += word.length;
                    return;
                }
            }
            fail();
        };
        try {
            value();
            space();
            return i < text.length ? i : -1;
        } catch (error) {
            // A RangeError carries the offset; a real stack overflow (absurd nesting)
            // has a message that is not a number and leaves us without a place.
            const offset = Number(error.message);
            return Number.isInteger(offset) ? offset : -1;
        }
    }

    function describe(error, text) {
        const offset = errorOffset(text);
        if (offset < 0) {
            return `Invalid JSON: ${error.message}`;
        }
        const before = text.slice(0, offset);
        const line = before.split("\n").length;
        const column = offset - before.lastIndexOf("\n");
        const found = offset < text.length ? `unexpected “${text[offset]}”` : "unexpected end";
        return `Invalid JSON on line ${line}, column ${column}: ${found}.`;
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
