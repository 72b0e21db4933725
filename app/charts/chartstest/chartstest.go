// Package chartstest reads back the charts of app/charts from a page's
// HTML, so tests check the bars a page draws, not its markup.
package chartstest

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Daily is a daily chart as drawn.
type Daily struct {
	Title, Desc string
	Legend      []string // the legend's labels, with totals
	Days        []Day
	Rows        [][]string // the cells of the table of numbers, one row per day
}

// Day is one day of a daily chart: the numbers it carries and the heights
// of the bars drawn for them (0: no bar).
type Day struct {
	Date              string // YYYY-MM-DD
	Tooltip           string
	Delivered, Failed int64
	DeliveredH        float64
	FailedH           float64
	FailedHatched     bool // the failed bar is filled with the hatch pattern
}

// Spark is a sparkline as drawn.
type Spark struct {
	Title  string
	Points [][2]float64 // the delivered line, left to right
	Fails  int          // failure markers
}

// ParseDaily finds the daily chart with id in page and reads it.
func ParseDaily(page, id string) (Daily, error) {
	fig, err := element(page, `<figure class="chart" id="`+id+`"`, "</figure>")
	if err != nil {
		return Daily{}, err
	}
	var out Daily
	var day *Day
	var inTitle, inDesc, inLegend, inRow bool
	var text strings.Builder
	err = walk(fig, func(tok xml.Token) {
		switch el := tok.(type) {
		case xml.StartElement:
			text.Reset()
			switch {
			case el.Name.Local == "title":
				inTitle = true
			case el.Name.Local == "desc":
				inDesc = true
			case el.Name.Local == "g" && attr(el, "class") == "legend":
				inLegend = true
			case el.Name.Local == "g" && strings.HasPrefix(attr(el, "class"), "day"):
				out.Days = append(out.Days, Day{Date: attr(el, "data-date"),
					Delivered: atoi(attr(el, "data-delivered")), Failed: atoi(attr(el, "data-failed"))})
				day = &out.Days[len(out.Days)-1]
			case el.Name.Local == "rect" && day != nil && attr(el, "class") == "bar bar-delivered":
				day.DeliveredH = atof(attr(el, "height"))
			case el.Name.Local == "rect" && day != nil && attr(el, "class") == "bar bar-failed":
				day.FailedH = atof(attr(el, "height"))
				day.FailedHatched = strings.HasPrefix(attr(el, "fill"), "url(#"+id+"-hatch)")
			case el.Name.Local == "tr":
				inRow = true
				out.Rows = append(out.Rows, nil)
			}
		case xml.CharData:
			text.Write(el)
		case xml.EndElement:
			s := strings.TrimSpace(text.String())
			switch {
			case el.Name.Local == "title" && inTitle:
				inTitle = false
				if day != nil {
					day.Tooltip = s
				} else {
					out.Title = s
				}
			case el.Name.Local == "desc" && inDesc:
				inDesc, out.Desc = false, s
			case el.Name.Local == "text" && inLegend:
				out.Legend = append(out.Legend, s)
			case el.Name.Local == "g":
				inLegend, day = false, nil
			case (el.Name.Local == "td" || el.Name.Local == "th") && inRow:
				out.Rows[len(out.Rows)-1] = append(out.Rows[len(out.Rows)-1], s)
			case el.Name.Local == "tr":
				inRow = false
			}
			text.Reset()
		}
	})
	if len(out.Rows) > 0 {
		out.Rows = out.Rows[1:] // the header
	}
	return out, err
}

// ParseSpark finds the sparkline with id in page and reads it.
func ParseSpark(page, id string) (Spark, error) {
	svg, err := element(page, `<svg class="spark" id="`+id+`"`, "</svg>")
	if err != nil {
		return Spark{}, err
	}
	var out Spark
	var inTitle bool
	err = walk(svg, func(tok xml.Token) {
		switch el := tok.(type) {
		case xml.StartElement:
			switch {
			case el.Name.Local == "title":
				inTitle = true
			case el.Name.Local == "polyline":
				for _, p := range strings.Fields(attr(el, "points")) {
					x, y, _ := strings.Cut(p, ",")
					out.Points = append(out.Points, [2]float64{atof(x), atof(y)})
				}
			case el.Name.Local == "path" && attr(el, "class") == "spark-fail":
				out.Fails++
			}
		case xml.CharData:
			if inTitle {
				out.Title += string(el)
			}
		case xml.EndElement:
			inTitle = false
		}
	})
	return out, err
}

// element cuts the element that starts with open and ends with the first
// close after it out of page.
func element(page, open, closing string) (string, error) {
	i := strings.Index(page, open)
	if i < 0 {
		return "", fmt.Errorf("no %s in the page", open)
	}
	j := strings.Index(page[i:], closing)
	if j < 0 {
		return "", fmt.Errorf("%s is not closed", open)
	}
	return page[i : i+j+len(closing)], nil
}

// walk decodes s as XML (HTML entities allowed) and hands every token to f.
func walk(s string, f func(xml.Token)) error {
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict, d.AutoClose, d.Entity = false, xml.HTMLAutoClose, xml.HTMLEntity
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("chart markup: %w", err)
		}
		f(tok)
	}
}

func attr(el xml.StartElement, name string) string {
	for _, a := range el.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func atoi(s string) int64   { n, _ := strconv.ParseInt(s, 10, 64); return n }
func atof(s string) float64 { f, _ := strconv.ParseFloat(s, 64); return f }
