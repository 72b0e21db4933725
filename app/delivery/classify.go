package delivery

import (
	"errors"
	"fmt"
	"time"

	"github.com/refhub/refhub/hubspot"
	"github.com/refhub/refhub/oauth"
)

type failureClass int

const (
	classNone        failureClass = iota
	classRetry                    // transient: back off and try again
	classRateLimited              // the portal's limit: pause the whole lane
	classReconnect                // the token is refused: park until reinstalled
	classInternal                 // refhub's own storage failed (Redis): retry soon, HubSpot is not at fault
	classBad                      // HubSpot refused the input itself: dead-letter, retrying cannot help
)

// String names the class in metrics.
func (c failureClass) String() string {
	switch c {
	case classRetry:
		return "retry"
	case classRateLimited:
		return "rate_limited"
	case classReconnect:
		return "reconnect"
	case classInternal:
		return "internal"
	case classBad:
		return "bad"
	}
	return "none"
}

// internalRetry is how soon a round that failed on refhub's side is tried
// again; such failures do not count toward RetryFor.
const internalRetry = time.Second

// classify decides what a lane-level error means. Behaviour lives with the
// error types (Delay, InvalidGrant, Temporary); this is the one place that
// maps them to what the lane does.
func classify(err error) (failureClass, time.Duration) {
	if err == nil {
		return classNone, 0
	}
	var (
		rl *hubspot.RateLimitError
		se *hubspot.ServerError
		ae *hubspot.AuthError
		sc *hubspot.ScopeError
		re *oauth.ReconnectError
		oe *hubspot.OAuthError
		ne *hubspot.NetworkError
	)
	switch {
	case errors.As(err, &re), errors.As(err, &sc), errors.As(err, &ae):
		return classReconnect, 0
	case errors.As(err, &rl):
		return classRateLimited, rl.Delay()
	case errors.As(err, &se):
		return classRetry, se.Delay()
	case errors.As(err, &oe):
		if oe.InvalidGrant() {
			return classReconnect, 0
		}
		return classRetry, 0
	case errors.As(err, &ne):
		return classRetry, 0
	}
	var ve *hubspot.ValidationError
	if errors.As(err, &ve) {
		return classBad, 0
	}
	var ae2 *hubspot.APIError
	if errors.As(err, &ae2) {
		// An unexpected answer from HubSpot: retried with backoff rather
		// than dropped; after RetryFor it is dead-lettered with the error.
		return classRetry, 0
	}
	// Not from HubSpot: refhub's own storage (Redis) failed mid-round.
	return classInternal, internalRetry
}

// retryText explains a pending retry to an admin.
func retryText(err error) string {
	if err == nil {
		return ""
	}
	class, delay := classify(err)
	switch class {
	case classReconnect:
		var sc *hubspot.ScopeError
		if errors.As(err, &sc) {
			return fmt.Sprintf("Waiting for the portal to be reconnected: the install lacks the scopes %v.", sc.RequiredScopes)
		}
		return "Waiting for the portal to be reconnected: " + err.Error()
	case classRateLimited:
		return fmt.Sprintf("HubSpot's rate limit was reached; refhub pauses this portal for %s and retries.", delay.Round(time.Second))
	}
	return "Will retry: " + err.Error()
}
