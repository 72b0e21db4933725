package charts

import (
	"fmt"
	"html/template"
	"time"
)

// Geometry of the daily chart, in the SVG's own units; the stylesheet
// scales it to the width of its card.
const (
	dailyW, dailyH      = 720.0, 240.0
	plotLeft, plotRight = 44.0, 712.0
	plotTop, plotBottom = 34.0, 206.0
	minBar              = 2.0 // a day with a count always shows a bar
	labelEvery          = 7   // days between date labels, counted back from today
	dailyTitle          = "Delivered and failed signups per day"
)

// dailyView is what the daily template draws.
type dailyView struct {
	ID, Title, Desc     string
	W, H                float64
	Left, Right, Bottom string
	Ticks               []tick
	Days                []dayBars
	Delivered, Failed   int64
	NotSent             int64  // no bars: the table and the description say it
	Hatch               string // the id of the failed bars' pattern
}

// tick is a gridline of the count axis.
type tick struct {
	Y     string
	Label int64
}

// dayBars is one day's pair of bars and its label.
type dayBars struct {
	Date, Label       string
	Delivered, Failed int64
	NotSent           int64
	D, F              *bar   // nil when the count is zero
	X                 string // centre of the day, for its label
	XLabel            string // the date shown under the axis, on some days
	Today             bool
}

// bar is one rectangle.
type bar struct{ X, Y, W, H string }

// Daily draws delivered and failed signups per day as pairs of bars: the
// delivered bar solid, the failed one hatched and outlined, a legend with
// each series' total, a count axis, dates under every seventh day counted
// back from today, a <title> and <desc> for screen readers, and a table of
// every day's numbers in a <details> below. Signups not sent (of a kind
// the source sends nothing for) have no bars: the description and the
// table count them, when there are any. id must be unique in the page
// (it prefixes the ids the SVG uses). days are oldest first, the last one
// today.
func Daily(id string, days []Day) (template.HTML, error) {
	if len(days) == 0 {
		return "", fmt.Errorf("chart %s: no days", id)
	}
	delivered, failed := totals(days)
	var top int64
	for _, d := range days {
		top = max(top, d.Delivered, d.Failed)
	}
	top = niceMax(top)
	v := dailyView{ID: id, Title: fmt.Sprintf("%s, last %d days", dailyTitle, len(days)), W: dailyW, H: dailyH,
		Left: num(plotLeft), Right: num(plotRight), Bottom: num(plotBottom), Delivered: delivered, Failed: failed,
		Hatch: id + "-hatch"}
	height := plotBottom - plotTop
	y := func(n int64) float64 { return plotBottom - float64(n)/float64(top)*height }
	for _, n := range []int64{0, top / 2, top} {
		v.Ticks = append(v.Ticks, tick{Y: num(y(n)), Label: n})
	}
	slot := (plotRight - plotLeft) / float64(len(days))
	barW := (slot - 4) / 2
	for i, d := range days {
		x := plotLeft + float64(i)*slot + 2
		db := dayBars{Date: d.Date.UTC().Format(time.DateOnly), Label: dayLabel(d.Date), Delivered: d.Delivered,
			Failed: d.Failed, NotSent: d.NotSent, X: num(x + barW), Today: i == len(days)-1}
		v.NotSent += d.NotSent
		db.D = barOf(d.Delivered, x, barW, y)
		db.F = barOf(d.Failed, x+barW, barW, y)
		if back := len(days) - 1 - i; back%labelEvery == 0 {
			db.XLabel = d.Date.UTC().Format("2 Jan")
			if back == 0 {
				db.XLabel = "Today"
			}
		}
		v.Days = append(v.Days, db)
	}
	last := days[len(days)-1]
	v.Desc = fmt.Sprintf("Over the last %d days (UTC), %s delivered and %s failed. Today so far: %d delivered, %d failed.",
		len(days), plural(delivered, "signup"), plural(failed, "signup"), last.Delivered, last.Failed)
	if v.NotSent > 0 {
		v.Desc += fmt.Sprintf(" %s not sent to HubSpot (of a kind the source sends nothing for).", plural(v.NotSent, "signup"))
	}
	return render("daily", v)
}

// barOf is the bar of count n at x, or nil for zero.
func barOf(n int64, x, w float64, y func(int64) float64) *bar {
	if n <= 0 {
		return nil
	}
	top := min(y(n), plotBottom-minBar)
	return &bar{X: num(x), Y: num(top), W: num(w), H: num(plotBottom - top)}
}
