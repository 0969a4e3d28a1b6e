// config_versions: the config editor. A plain <textarea> (it works without JavaScript),
// given line numbers, a live JSON check and marks on the lines the check or the server
// found wrong. No inline script, so it works under a CSP.
//
// Cost per keystroke: the browser's own typing in the textarea, then one frame that
// counts the lines and redraws the numbers in view (a few dozen elements, whatever the
// size of the config). The JSON check runs once typing pauses.
"use strict";
{
    const SPACE = " \t\n\r";
    const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    // "Line 12, /llm/model: ..." (schema and size errors), "... on line 3, column 8: ...".
    const LINE_IN_ERROR = /\b[Ll]ine (\d+)\b/;

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

    function countLines(text) {
        let lines = 1;
        for (let at = text.indexOf("\n"); at !== -1; at = text.indexOf("\n", at + 1)) {
            lines++;
        }
        return lines;
    }

    // The problem with the text, if any: {message, line} (line 0: not tied to a line).
    function problemOf(text) {
        let value;
        try {
            value = JSON.parse(text);
        } catch (error) {
            const offset = errorOffset(text);
            if (offset < 0) {
                return {message: `Invalid JSON: ${error.message}`, line: 0};
            }
            const before = text.slice(0, offset);
            const line = countLines(before);
            const column = offset - before.lastIndexOf("\n");
            const found = offset < text.length ? `unexpected “${text[offset]}”` : "unexpected end";
            return {message: `Invalid JSON on line ${line}, column ${column}: ${found}.`, line};
        }
        if (value === null || typeof value !== "object" || Array.isArray(value)) {
            return {message: "The config must be a JSON object ({...}).", line: 0};
        }
        return null;
    }

    // The time the editor's own work took, for the browser's performance tools (and
    // the tests): only the latest entry of each name is kept.
    function timing(name, started) {
        if (performance.measure && performance.clearMeasures) {
            performance.clearMeasures(name);
            performance.measure(name, {start: started});
        }
    }

    function element(tag, className, parent) {
        const node = document.createElement(tag);
        node.className = className;
        if (parent) {
            parent.appendChild(node);
        }
        return node;
    }

    class Editor {
        constructor(area, status) {
            this.area = area;
            this.status = status;
            this.lines = countLines(area.value);
            this.liveMark = null; // {line, message} from the check in the browser
            this.serverMarks = []; // [{line, message}] from the errors the page came with
            this.serverLines = this.lines; // the line count those marks refer to
            this.frame = 0;
            this.timer = null;
            // Line numbers need one line of text per line on screen: a site that lets
            // the editor wrap long lines gets the check and the status without them.
            this.numbered = getComputedStyle(area).whiteSpace === "pre";
            this.build();
            this.gutter.hidden = !this.numbered;
            this.readServerErrors();
            area.addEventListener("input", () => this.changed());
            area.addEventListener("scroll", () => this.schedule());
            new ResizeObserver(() => this.schedule()).observe(area);
            this.check();
            if (this.serverMarks.length && this.numbered) {
                this.reveal(this.serverMarks[0].line); // the page came back with errors
            }
            this.render();
        }

        build() {
            const area = this.area;
            const editor = element("div", "cv-editor");
            area.parentNode.insertBefore(editor, area);
            this.gutter = element("div", "cv-gutter", editor);
            this.gutter.setAttribute("aria-hidden", "true");
            this.numbers = element("div", "cv-gutter-lines", this.gutter);
            const main = element("div", "cv-editor-main", editor);
            main.appendChild(area);
            this.marks = element("div", "cv-marks", main);
            this.marks.setAttribute("aria-hidden", "true");
            this.marksInner = element("div", "cv-marks-lines", this.marks);

            const statusRow = this.status.parentNode;
            this.goto = document.createElement("button");
            this.goto.type = "button";
            this.goto.className = "cv-goto-line";
            this.goto.hidden = true;
            this.goto.addEventListener("click", () => this.showLine(Number(this.goto.value)));
            statusRow.insertBefore(this.goto, this.status.nextSibling);
        }

        readServerErrors() {
            // The field's error list (Django puts it just before the field, in its row).
            const row = this.area.closest(".form-row");
            if (!row) {
                return;
            }
            for (const item of row.querySelectorAll("ul.errorlist li")) {
                const match = LINE_IN_ERROR.exec(item.textContent);
                const line = match ? Number(match[1]) : 0;
                if (line >= 1 && line <= this.lines) {
                    this.serverMarks.push({line, message: item.textContent.trim()});
                    const button = document.createElement("button");
                    button.type = "button";
                    button.className = "cv-goto-line";
                    button.textContent = `Go to line ${line}`;
                    button.addEventListener("click", () => this.showLine(line));
                    item.append(" ", button);
                }
            }
            this.serverLines = this.lines;
        }

        changed() {
            this.dirty = true;
            this.schedule();
            clearTimeout(this.timer);
            // Longer pauses before checking a longer text: the check reads all of it.
            const delay = 250 + Math.min(this.area.value.length / 5000, 750);
            this.timer = setTimeout(() => this.check(), delay);
        }

        schedule() {
            if (!this.frame) {
                this.frame = requestAnimationFrame(() => {
                    this.frame = 0;
                    this.render();
                });
            }
        }

        check() {
            const started = performance.now();
            const problem = problemOf(this.area.value);
            this.status.textContent = problem ? problem.message : "Valid JSON.";
            this.status.classList.toggle("cv-invalid", Boolean(problem));
            this.area.setAttribute("aria-invalid", problem ? "true" : "false");
            this.liveMark = problem && problem.line ? problem : null;
            this.goto.hidden = !this.liveMark;
            if (this.liveMark) {
                this.goto.value = String(this.liveMark.line);
                this.goto.textContent = `Go to line ${this.liveMark.line}`;
            }
            this.render();
            timing("cv-json-check", started);
        }

        // The marked lines: the server's while the lines have not moved, and the check's.
        marked() {
            const marks = new Map();
            if (this.lines === this.serverLines) {
                for (const mark of this.serverMarks) {
                    marks.set(mark.line, mark.message);
                }
            }
            if (this.liveMark) {
                marks.set(this.liveMark.line, this.liveMark.message);
            }
            return marks;
        }

        // Line geometry, measured: the browser may round each line's height, so the
        // pitch is taken from the height of all lines together when they overflow.
        geometry() {
            const area = this.area;
            const style = getComputedStyle(area);
            const padTop = parseFloat(style.paddingTop) || 0;
            const padBottom = parseFloat(style.paddingBottom) || 0;
            let pitch = parseFloat(style.lineHeight);
            if (!pitch) {
                pitch = (parseFloat(style.fontSize) || 13) * 1.2;
            }
            const content = area.scrollHeight - padTop - padBottom;
            if (area.scrollHeight > area.clientHeight + 1 && this.lines > 1) {
                pitch = content / this.lines;
            }
            return {padTop, pitch, style};
        }

        render() {
            const started = performance.now();
            this.draw();
            timing("cv-editor-frame", started);
        }

        draw() {
            const area = this.area;
            if (this.dirty) {
                this.dirty = false;
                this.lines = countLines(area.value);
            }
            const height = area.clientHeight;
            if (!height || !this.numbered) {
                return; // not shown (a collapsed fieldset): the observer calls again
            }
            const {padTop, pitch, style} = this.geometry();
            const digits = String(this.lines).length;
            const gutter = this.gutter;
            if (gutter.dataset.digits !== String(digits)) {
                gutter.dataset.digits = String(digits);
                gutter.style.width = `calc(${digits + 1}ch + 12px)`;
            }
            const font = `${style.fontSize} / ${pitch}px ${style.fontFamily}`;
            if (this.font !== font) {
                this.font = font;
                gutter.style.font = font;
            }
            const top = area.clientTop + padTop - area.scrollTop;
            const first = Math.max(1, Math.floor((area.scrollTop - padTop) / pitch) + 1);
            const last = Math.min(this.lines, first + Math.ceil(height / pitch) + 1);
            const marks = this.marked();

            // Numbers: one element per line in view, reused from frame to frame.
            const numbers = this.numbers;
            numbers.style.transform = `translateY(${top}px)`;
            const count = Math.max(last - first + 1, 0);
            while (numbers.childElementCount < count) {
                element("div", "cv-gutter-line", numbers);
            }
            while (numbers.childElementCount > count) {
                numbers.lastElementChild.remove();
            }
            for (let k = 0; k < count; k++) {
                const line = first + k;
                const node = numbers.children[k];
                const text = String(line);
                if (node.textContent !== text) {
                    node.textContent = text;
                }
                node.style.top = `${(line - 1) * pitch}px`;
                node.style.height = `${pitch}px`;
                const message = marks.get(line);
                node.classList.toggle("cv-gutter-error", message !== undefined);
                node.title = message || "";
            }

            // Error bands over the text, clipped to the textarea's inside.
            const overlay = this.marks;
            overlay.style.top = `${area.offsetTop + area.clientTop}px`;
            overlay.style.left = `${area.offsetLeft + area.clientLeft}px`;
            overlay.style.width = `${area.clientWidth}px`;
            overlay.style.height = `${height}px`;
            this.marksInner.style.transform = `translateY(${padTop - area.scrollTop}px)`;
            const bands = [...marks.keys()].filter((line) => line >= first - 1 && line <= last + 1);
            while (this.marksInner.childElementCount < bands.length) {
                element("div", "cv-mark-error", this.marksInner);
            }
            while (this.marksInner.childElementCount > bands.length) {
                this.marksInner.lastElementChild.remove();
            }
            bands.forEach((line, k) => {
                const band = this.marksInner.children[k];
                band.style.top = `${(line - 1) * pitch}px`;
                band.style.height = `${pitch}px`;
                band.dataset.line = String(line);
            });
            this.editor().classList.toggle("cv-has-errors", marks.size > 0);
        }

        editor() {
            return this.gutter.parentNode;
        }

        // Select line ``line`` and scroll it into the middle of the editor.
        showLine(line) {
            const text = this.area.value;
            let start = 0;
            for (let k = 1; k < line && start !== -1; k++) {
                start = text.indexOf("\n", start) + 1 || -1;
            }
            if (start < 0) {
                return;
            }
            const end = text.indexOf("\n", start);
            this.area.focus();
            this.area.setSelectionRange(start, end < 0 ? text.length : end);
            this.reveal(line);
            this.render();
        }

        // Scroll line ``line`` to the upper third of the editor.
        reveal(line) {
            const {padTop, pitch} = this.geometry();
            this.area.scrollTop = padTop + (line - 1) * pitch - this.area.clientHeight / 3;
        }
    }

    function setUp(area) {
        const wrap = area.closest(".cv-json-editor-wrap");
        const status = wrap && wrap.querySelector(".cv-json-status");
        if (!status || area.dataset.cvEditor) {
            return;
        }
        area.dataset.cvEditor = "on";
        status.id = `${area.id}_status`;
        const described = area.getAttribute("aria-describedby");
        area.setAttribute("aria-describedby", described ? `${described} ${status.id}` : status.id);
        new Editor(area, status);
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
