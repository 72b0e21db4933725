// Package hubspottest is a strict, in-process simulator of the HubSpot
// endpoints refhub uses: OAuth (authorize consent page, token, introspect,
// revoke), contact batch upsert/read/create/update, and contact properties
// and property groups. It serves real HTTP so that clients are exercised
// end to end, and it is deliberately independent of refhub's own HubSpot
// client so the two cannot merely agree with each other.
//
// The simulator is strict on purpose: it validates content types, scopes,
// batch sizes, duplicate ids, property definitions and values, and answers
// with HubSpot's error shapes (categories, embedded validation JSON,
// correlation ids, rate-limit headers). A client that passes against it has
// a good chance of passing against HubSpot.
//
// Every time-dependent rule (token and code expiry, the rolling rate-limit
// window, timestamps) reads Options.Clock, so tests can move time forward
// instead of sleeping. Only fault injection (Latency, HangRate) uses real
// time, because it must hold real HTTP requests.
package hubspottest
