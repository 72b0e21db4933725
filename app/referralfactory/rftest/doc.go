// Package rftest is a strict, in-process simulator of the parts of Referral
// Factory refhub talks to, served over real HTTP:
//
//   - the REST API's GET /api/v2/users (page, per_page up to 250, meta and
//     links, and the documented quirk of ignoring campaign_id) and
//     GET /api/v2/users/{identifier}, behind Bearer tokens with one active
//     token per account (rotating it makes the old one answer 401);
//   - the API's burst limit of 600 calls per minute per token, answered
//     with 429 and Retry-After, and the temporary block of the caller's IP
//     after the limit is abused more than three times;
//   - a customer's inbound qualify webhook, POST /webhook/{token}/qualify
//     with a form field code (unique code or coupon code);
//   - outbound webhooks ("A new referrer joins", "A new lead is created",
//     "A lead is qualified") sent once, without retries, to URLs a test
//     configures per campaign, with up to three custom headers and the
//     older UI's field toggles, key renames and hidden fields.
//
// Every rule that depends on time reads Options.Clock, so tests step time
// instead of sleeping. The simulator shares no code with the client in the
// parent package, so the two cannot merely agree with each other. Which
// behaviour Referral Factory documents and which is assumed here is listed
// in ../README.md.
package rftest
