package pages_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// screenshotDir is where the browser tests save screenshots of the main
// pages (relative to this package: testdata/screenshots at the repo root).
const screenshotDir = "../../testdata/screenshots"

// stepTimeout bounds one browser step (a navigation, a wait).
const stepTimeout = 20 * time.Second

// chromePath finds Chromium (or Chrome). The browser tests are part of the
// suite: without a browser they fail rather than skip.
func chromePath(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium or Chrome found for the browser tests: run scripts/test, which installs Chromium")
	return ""
}

// chrome is one headless browser tab driven through a test.
type chrome struct {
	t   *testing.T
	ctx context.Context

	mu       sync.Mutex
	problems []string // console errors and uncaught exceptions of the pages
}

// startChrome launches a headless browser with a fresh profile; it stops
// when the test ends.
func startChrome(t *testing.T) *chrome {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromePath(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true), chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("no-proxy-server", true), chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1366, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	c := &chrome{t: t, ctx: ctx}
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				c.mu.Lock()
				c.problems = append(c.problems, m.String()+" ("+m.URL+")")
				c.mu.Unlock()
			}
		}
	}()
	return c
}

// do runs browser steps, failing the test with what was being done.
func (c *chrome) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		c.fail(what, err)
	}
}

// fail stops the test with a screenshot of the page as it was.
func (c *chrome) fail(what string, err error) {
	c.t.Helper()
	loc, _ := chromedp.Run(c.ctx, chromedp.Location())
	c.shot("failure-" + strings.ReplaceAll(strings.ToLower(c.t.Name()), "/", "-"))
	c.t.Fatalf("browser: %s: %v (page %s)", what, err, loc)
}

// eval evaluates a JavaScript expression and decodes its value into T.
func evalJS[T any](c *chrome, what, expr string) T {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		c.fail(what, err)
	}
	return v
}

// open navigates to url and waits until sel is visible.
func (c *chrome) open(url, sel string) {
	c.t.Helper()
	c.do("open "+url, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(sel)))
}

// submit clicks sel (a button or link that loads a page) and waits until
// the new page satisfies the JavaScript condition cond. The click goes
// through the page itself: chromedp's Click finds the node by an id of its
// copy of the DOM, which right after a navigation may still be the last
// page's (the click then fails, or lands where nothing is). The click is
// deferred so that the page it loads cannot see it evaluated again.
func (c *chrome) submit(what, sel, cond string) {
	c.t.Helper()
	c.waitFor(what+": find "+sel, fmt.Sprintf(
		`(el => !!el && (window.__refhubOld = true, setTimeout(() => el.click(), 0), true))(document.querySelector(%s))`, jsString(sel)))
	c.waitFor(what, `!window.__refhubOld && document.readyState !== "loading" && (`+cond+`)`)
}

// waitFor waits until the JavaScript condition holds on the current page.
// It asks again while a navigation replaces the page under it.
func (c *chrome) waitFor(what, cond string) {
	c.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(c.ctx, 2*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+cond+")"))
		cancel()
		if err == nil && ok {
			return
		}
		if err != nil {
			last = err
		}
		time.Sleep(40 * time.Millisecond)
	}
	if last == nil {
		last = fmt.Errorf("still false after %s: %s", stepTimeout, cond)
	}
	c.fail(what, last)
}

// text returns the visible text of the first element matching sel.
func (c *chrome) text(sel string) string {
	c.t.Helper()
	return evalJS[string](c, "read "+sel, fmt.Sprintf(`(document.querySelector(%s) || {innerText: ""}).innerText`, jsString(sel)))
}

// fill sets a text field's value as typing would.
func (c *chrome) fill(sel, value string) {
	c.t.Helper()
	c.setControl("fill "+sel, sel, value)
}

// choose picks the option of value in a select, firing its change event as
// a person choosing it would; the option must exist.
func (c *chrome) choose(sel, value string) {
	c.t.Helper()
	ok := evalJS[bool](c, "look for option "+value+" in "+sel, fmt.Sprintf(
		`Array.from(document.querySelector(%s).options).some(o => o.value === %s)`, jsString(sel), jsString(value)))
	if !ok {
		c.fail("choose "+value+" in "+sel, fmt.Errorf("the select offers no option %q", value))
	}
	c.setControl("choose "+value+" in "+sel, sel, value)
}

func (c *chrome) setControl(what, sel, value string) {
	c.t.Helper()
	evalJS[bool](c, what, fmt.Sprintf(`(() => { const el = document.querySelector(%s); el.focus(); el.value = %s;
		el.dispatchEvent(new Event("input", {bubbles: true})); el.dispatchEvent(new Event("change", {bubbles: true})); return true; })()`,
		jsString(sel), jsString(value)))
}

// shot saves a full-page PNG screenshot as name.png in screenshotDir.
func (c *chrome) shot(name string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		c.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	c.save(name, png)
}

// save writes a screenshot as name.png in screenshotDir.
func (c *chrome) save(name string, png []byte) {
	c.t.Helper()
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(screenshotDir, name+".png"), png, 0o644); err != nil {
		c.t.Fatal(err)
	}
}

// shotOf saves a PNG screenshot of the first element matching sel as
// name.png in screenshotDir.
func (c *chrome) shotOf(name, sel string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(sel)))
	if err != nil {
		c.t.Errorf("screenshot %s of %s: %v", name, sel, err)
		return
	}
	c.save(name, png)
}

// consoleProblems returns the console errors and exceptions seen so far
// (a CSP violation is one) on pages whose URL starts with origin.
func (c *chrome) consoleProblems(origin string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, p := range c.problems {
		if strings.Contains(p, "("+origin) {
			out = append(out, p)
		}
	}
	return out
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
