// Package charts draws the settings app's charts on the server, as SVG
// written by hand: delivered and failed signups per day (Daily) and a small
// trend for a list (Spark). Nothing is fetched from elsewhere and nothing
// runs in the browser, so the pages keep their Content-Security-Policy of
// 'self'. Colours come from the app's stylesheet through class names; every
// series also differs by shape or pattern, carries its numbers as text
// (labels, <title>, <desc>) and, for Daily, a table of the numbers per day,
// so a chart reads without colour and with a screen reader.
package charts

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"strconv"
	"time"
)

// Day is one UTC day of a chart.
type Day struct {
	Date      time.Time // midnight UTC
	Delivered int64
	Failed    int64
	NotSent   int64 // stored, of a kind the source sends nothing to HubSpot for
}

//go:embed templates/*.svg.html
var templateFS embed.FS

var templates = template.Must(template.New("").ParseFS(templateFS, "templates/*.svg.html"))

// render executes one of the chart templates.
func render(name string, data any) (template.HTML, error) {
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, name, data); err != nil {
		return "", fmt.Errorf("chart %s: %w", name, err)
	}
	// The output is html/template's, escaped as it was written.
	return template.HTML(buf.String()), nil //nolint:gosec
}

// totals adds up the days.
func totals(days []Day) (delivered, failed int64) {
	for _, d := range days {
		delivered += d.Delivered
		failed += d.Failed
	}
	return delivered, failed
}

// niceMax is the top of a scale that holds max: 2, 4, 6, 8 or 10 times a
// power of ten, so that its half is a whole number too.
func niceMax(max int64) int64 {
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{2, 4, 6, 8, 10} {
			if m*p >= max {
				return m * p
			}
		}
	}
}

// num formats a coordinate with one decimal, the precision a screen needs.
func num(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// plural is "1 signup" or "n signups".
func plural(n int64, one string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(n, 10) + " " + one + "s"
}

// dayLabel is how a chart names a day: "Tue 1 Dec".
func dayLabel(t time.Time) string { return t.UTC().Format("Mon 2 Jan") }
