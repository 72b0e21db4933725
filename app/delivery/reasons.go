package delivery

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/refhub/refhub/hubspot"
)

// Reason is why an event could not be delivered, in words an admin
// understands, with what to do about it.
type Reason struct {
	Text     string
	Fix      string
	Code     string
	Property string
}

const replayHint = " Then replay the dead letters."

// explainProperty translates one of HubSpot's property-value errors.
func explainProperty(pe hubspot.PropertyError, value string) Reason {
	r := Reason{Code: pe.Code, Property: pe.Property}
	prop := pe.Property
	switch pe.Code {
	case "INVALID_EMAIL":
		r.Text = fmt.Sprintf("HubSpot rejected the email address %q as invalid.", value)
		r.Fix = "Check which Referral Factory field is mapped to email, or correct the address in Referral Factory." + replayHint
	case "PROPERTY_DOESNT_EXIST":
		r.Text = fmt.Sprintf("Property '%s' does not exist in this portal: create the recommended properties or remap it.", prop)
		r.Fix = "Create the property in HubSpot (the source page creates the recommended ones in one click) or map the field to an existing property." + replayHint
	case "READ_ONLY_VALUE":
		r.Text = fmt.Sprintf("Property '%s' is read-only in HubSpot: HubSpot sets or calculates it.", prop)
		r.Fix = "Remove it from the mapping or map the field to another property." + replayHint
	case "INVALID_OPTION":
		r.Text = fmt.Sprintf("%q is not one of the options of property '%s'.", value, prop)
		r.Fix = "Change the mapping or default value to one of the property's options, or add the option in HubSpot." + replayHint
	case "INVALID_INTEGER", "INVALID_LONG", "INVALID_DOUBLE", "INVALID_NUMBER":
		r.Text = fmt.Sprintf("Property '%s' holds numbers and %q is not a number.", prop, value)
		r.Fix = "Map a numeric Referral Factory field to it, or choose a text property." + replayHint
	case "INVALID_DATE", "INVALID_DATETIME", "INVALID_DATE_TIME":
		r.Text = fmt.Sprintf("Property '%s' holds dates and HubSpot could not read %q as one.", prop, value)
		r.Fix = "Map a date field to it (YYYY-MM-DD), or choose a text property." + replayHint
	default:
		r.Text = fmt.Sprintf("HubSpot rejected the value %q of property '%s' (%s): %s", value, prop, pe.Code, pe.Message)
		r.Fix = "Correct the mapping or the value." + replayHint
	}
	return r
}

// explain turns a delivery error for one event into a Reason.
func explain(err error, props map[string]string) Reason {
	var ve *hubspot.ValidationError
	if errors.As(err, &ve) {
		for _, pe := range ve.Properties {
			if _, ok := props[pe.Property]; ok || pe.Property == "" {
				return explainProperty(pe, valueOf(pe, props))
			}
		}
		if len(ve.Properties) > 0 {
			return explainProperty(ve.Properties[0], valueOf(ve.Properties[0], props))
		}
		return Reason{Code: "VALIDATION_ERROR", Text: "HubSpot refused the contact: " + ve.Message,
			Fix: "Check the mapping and default values of this source." + replayHint}
	}
	var ce *hubspot.ConflictError
	if errors.As(err, &ce) {
		return Reason{Code: "CONFLICT", Text: "HubSpot reports a contact with this email already exists (id " + ce.ExistingID + ").",
			Fix: "Replay the event; refhub will treat it as an existing contact."}
	}
	var ae *hubspot.APIError
	if errors.As(err, &ae) {
		return Reason{Code: ae.Category, Text: fmt.Sprintf("HubSpot answered %d: %s", ae.StatusCode, ae.Message),
			Fix: "Check the mapping of this source." + replayHint}
	}
	return Reason{Code: "ERROR", Text: err.Error(), Fix: replayHint[1:]}
}

func valueOf(pe hubspot.PropertyError, props map[string]string) string {
	if v, ok := props[pe.Property]; ok {
		return v
	}
	if m := invalidEmail.FindStringSubmatch(pe.Message); m != nil {
		return m[1]
	}
	return ""
}

var invalidEmail = regexp.MustCompile(`(?i)email address (\S+) is invalid`)

// culprits returns the items a validation error points at. certain ones
// are known bad: HubSpot quotes their email, or they carry a property that
// does not exist or is read-only (every item carrying it fails the same
// way). suspects carry the property HubSpot names with a value its message
// quotes; they are tested apart from the others.
func culprits(items []*work, ve *hubspot.ValidationError) (certain, suspects []*work) {
	seen := map[*work]bool{}
	add := func(list *[]*work, w *work) {
		if !seen[w] {
			seen[w] = true
			*list = append(*list, w)
		}
	}
	for _, pe := range ve.Properties {
		switch pe.Code {
		case "INVALID_EMAIL":
			m := invalidEmail.FindStringSubmatch(pe.Message)
			for _, w := range items {
				if m != nil && strings.EqualFold(strings.TrimRight(m[1], ".,;"), w.email) {
					add(&certain, w)
				}
			}
		case "PROPERTY_DOESNT_EXIST", "READ_ONLY_VALUE":
			for _, w := range items {
				if _, ok := w.props[pe.Property]; ok {
					add(&certain, w)
				}
			}
		default:
			for _, w := range items {
				if v, ok := w.props[pe.Property]; ok && v != "" && strings.Contains(pe.Message, v) {
					add(&suspects, w)
				}
			}
		}
	}
	return certain, suspects
}
