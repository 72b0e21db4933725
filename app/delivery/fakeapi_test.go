package delivery

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refhub/refhub/app/queue"
	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/tenants"
)

// strictReads is an API whose batch read refuses a whole batch with an
// invalid email in it (as a HubSpot implementation may), and creates every
// contact asked for.
type strictReads struct {
	reads, creates int
}

func (f *strictReads) UpsertByEmail(context.Context, []hubspot.UpsertInput) (*hubspot.UpsertResult, error) {
	panic("not used")
}

func (f *strictReads) ReadByEmail(_ context.Context, emails, _ []string) (map[string]hubspot.Contact, error) {
	f.reads++
	for _, e := range emails {
		if !strings.Contains(e, ".") {
			return nil, &hubspot.ValidationError{APIError: &hubspot.APIError{StatusCode: 400, Category: "VALIDATION_ERROR",
				Message: "Email address " + e + " is invalid"},
				Properties: []hubspot.PropertyError{{Code: "INVALID_EMAIL", Property: "email", Message: "Email address " + e + " is invalid"}}}
		}
	}
	return map[string]hubspot.Contact{}, nil
}

func (f *strictReads) ReadByID(context.Context, []string, []string) (map[string]hubspot.Contact, error) {
	return map[string]hubspot.Contact{}, nil
}

func (f *strictReads) Create(_ context.Context, in []hubspot.CreateInput) (*hubspot.CreateResult, error) {
	f.creates++
	res := &hubspot.CreateResult{Created: map[string]hubspot.Contact{}, Failed: map[string]error{}}
	for i, c := range in {
		res.Created[c.TraceID] = hubspot.Contact{ID: string(rune('a' + i)), Properties: c.Properties}
	}
	return res, nil
}

func (f *strictReads) Update(context.Context, []hubspot.UpdateInput) (map[string]hubspot.Contact, []string, error) {
	return nil, nil, nil
}

// TestRefusedReadIsIsolated: a batch read refused because of one email
// dead-letters that signup only; the others are read and created.
func TestRefusedReadIsIsolated(t *testing.T) {
	for _, policy := range []tenants.Policy{tenants.Skip, tenants.FillEmpty} {
		t.Run(string(policy), func(t *testing.T) {
			api := &strictReads{}
			var ws []*work
			for _, e := range []string{"a@x.com", "b@x.com", "bad@nodot", "c@x.com"} {
				ws = append(ws, &work{email: e, props: map[string]string{"email": e, "firstname": "F"}})
			}
			require.NoError(t, send(context.Background(), api, policy, ws))
			for _, w := range ws {
				if w.email == "bad@nodot" {
					require.NotNil(t, w.bad)
					assert.Equal(t, "INVALID_EMAIL", w.bad.Code)
					continue
				}
				assert.True(t, w.done, w.email)
				assert.Equal(t, queue.Created, w.outcome)
			}
			assert.Equal(t, 1, api.creates)
		})
	}
}
