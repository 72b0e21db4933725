// Package hubspottest is a strict, in-process simulator of the HubSpot
// endpoints refhub uses: OAuth (authorize consent page, token, introspect,
// revoke), contact batch upsert/read/create/update and GDPR deletion,
// contact and deal properties and property groups, deal batch create (with
// associations inline), upsert (by a unique-value property) and read, deal
// pipelines, association labels and
// association batches (create, default, read). It also plays HubSpot's side
// of app webhooks: events raised by a simulated HubSpot user
// (SetContactProperty, MoveDealStage, GDPRDeleteContact) are delivered,
// signed with v3, retried and, on request, forged (DeliverWebhooksWith).
// It serves real HTTP so that clients are exercised end to end, and it is
// deliberately independent of refhub's own HubSpot client (its signing
// shares no code with hubspot.VerifyWebhookV3) so the two cannot merely
// agree with each other.
//
// The simulator is strict on purpose: it validates content types, scopes,
// batch sizes, duplicate ids, property definitions and values, and answers
// with HubSpot's error shapes (categories, embedded validation JSON,
// correlation ids, rate-limit headers). A client that passes against it has
// a good chance of passing against HubSpot.
//
// Every time-dependent rule (token and code expiry, the rolling rate-limit
// window, timestamps, webhook retry backoff and signature timestamps) reads
// Options.Clock, so tests can move time forward instead of sleeping. Only
// fault injection (Latency, HangRate) and the webhook answer timeout use
// real time, because they bound real HTTP requests.
package hubspottest
