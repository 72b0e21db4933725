package charts

import (
	"fmt"
	"html/template"
	"strings"
)

// Geometry of a sparkline: the delivered line above, a row for the
// failure markers below it.
const (
	sparkW, sparkH   = 124.0, 32.0
	sparkLineTop     = 3.0
	sparkLineBottom  = 21.0
	sparkMarkerTop   = 25.0
	sparkMarkerBelow = 31.0
)

// sparkView is what the sparkline template draws.
type sparkView struct {
	ID, Title         string
	W, H              float64
	Points            string   // the delivered line
	Base              string   // y of the zero line
	LastX, LastY      string   // today's point
	Fails             []string // a triangle's path per day with failures
	Delivered, Failed int64
}

// Spark draws a small trend for a list: signups delivered per day as a
// line ending in a dot (today), and a triangle under each day with
// failures. label names what the trend is of (a portal's domain); the SVG's
// <title> says the totals, and the caller shows them as text beside it.
func Spark(id, label string, days []Day) (template.HTML, error) {
	if len(days) < 2 {
		return "", fmt.Errorf("sparkline %s: needs at least two days", id)
	}
	delivered, failed := totals(days)
	var top int64
	for _, d := range days {
		top = max(top, d.Delivered)
	}
	top = max(top, 1)
	step := (sparkW - 6) / float64(len(days)-1)
	v := sparkView{ID: id, W: sparkW, H: sparkH, Base: num(sparkLineBottom), Delivered: delivered, Failed: failed,
		Title: fmt.Sprintf("%s, last %d days (UTC): %d delivered, %d failed; today %d delivered, %d failed",
			label, len(days), delivered, failed, days[len(days)-1].Delivered, days[len(days)-1].Failed)}
	pts := make([]string, len(days))
	for i, d := range days {
		x := 3 + float64(i)*step
		y := sparkLineBottom - float64(d.Delivered)/float64(top)*(sparkLineBottom-sparkLineTop)
		pts[i] = num(x) + "," + num(y)
		if i == len(days)-1 {
			v.LastX, v.LastY = num(x), num(y)
		}
		if d.Failed > 0 {
			v.Fails = append(v.Fails, fmt.Sprintf("M%s %sL%s %sL%s %sZ", num(x), num(sparkMarkerTop),
				num(x+2.5), num(sparkMarkerBelow), num(x-2.5), num(sparkMarkerBelow)))
		}
	}
	v.Points = strings.Join(pts, " ")
	return render("spark", v)
}
