// Package systest is refhub's system-level test suite: it builds the refhub
// binary and runs real processes — redis-server (single, with an append-only
// file, or a 3-primary cluster), two refhub replicas — against the HubSpot
// simulator, then checks signup by signup that everything refhub accepted is
// in HubSpot or in dead letters with a reason. See RELIABILITY.md.
package systest
