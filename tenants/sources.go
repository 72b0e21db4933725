package tenants

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// SourcesChannel is the pub/sub channel on which source changes are
// announced (payload: source id), so replicas drop cached copies.
const SourcesChannel = "refhub:sources"

// sourceRecord is a source as stored: its secrets sealed.
type sourceRecord struct {
	Source
	TokenSealed  string `json:"token_sealed"`
	SecretSealed string `json:"secret_sealed,omitempty"`
	RFSealed     string `json:"rf_token_sealed,omitempty"`
}

func tokenAAD(id string) string  { return "source:" + id + ":token" }
func secretAAD(id string) string { return "source:" + id + ":secret" }
func rfAAD(id string) string     { return "source:" + id + ":rftoken" }

// CreateSource creates a source sending to portal hubID with the default
// mapping and a fresh webhook token; a workspace at its cap of sources
// gets a *CapError.
func (s *RedisStore) CreateSource(ctx context.Context, wsID string, hubID int64, name string) (Source, error) {
	now := s.now().UTC()
	src := Source{
		ID: NewID("src"), WorkspaceID: wsID, Name: name, HubID: hubID,
		Mapping: DefaultMapping(), Routes: []Route{}, CreatedAt: now, UpdatedAt: now,
		Token: NewSecret(),
	}
	// The place in the workspace's index first: at the cap, nothing is
	// written.
	if err := s.addCapped(ctx, workspaceSourcesKey(wsID), "zset", s.caps.Sources, now.UnixMilli(), src.ID, "sources"); err != nil {
		return Source{}, err
	}
	err := s.writeSource(ctx, src)
	if err == nil {
		err = s.rdb.Set(ctx, hookKey(HashSecret(src.Token)), src.ID, 0).Err()
	}
	if err != nil {
		s.rdb.ZRem(ctx, workspaceSourcesKey(wsID), src.ID)
		return Source{}, fmt.Errorf("create source: %w", err)
	}
	return src, nil
}

func (s *RedisStore) writeSource(ctx context.Context, src Source) error {
	rec := sourceRecord{Source: src}
	var err error
	if rec.TokenSealed, err = s.vault.SealString(src.Token, tokenAAD(src.ID)); err != nil {
		return err
	}
	if src.Secret != "" {
		if rec.SecretSealed, err = s.vault.SealString(src.Secret, secretAAD(src.ID)); err != nil {
			return err
		}
	}
	if src.RFToken != "" {
		if rec.RFSealed, err = s.vault.SealString(src.RFToken, rfAAD(src.ID)); err != nil {
			return err
		}
	}
	if err := s.setJSON(ctx, sourceKey(src.ID), rec); err != nil {
		return fmt.Errorf("save source %s: %w", src.ID, err)
	}
	s.rdb.Publish(ctx, SourcesChannel, src.ID)
	return nil
}

// Source returns the source with id, its secrets opened.
func (s *RedisStore) Source(ctx context.Context, id string) (Source, error) {
	var rec sourceRecord
	if err := s.getJSON(ctx, sourceKey(id), &rec); err != nil {
		return Source{}, fmt.Errorf("source %s: %w", id, err)
	}
	return s.open(rec)
}

func (s *RedisStore) open(rec sourceRecord) (Source, error) {
	src := rec.Source
	var err error
	if src.Token, err = s.vault.OpenString(rec.TokenSealed, tokenAAD(src.ID)); err != nil {
		return Source{}, fmt.Errorf("source %s: webhook token: %w", src.ID, err)
	}
	if rec.SecretSealed != "" {
		if src.Secret, err = s.vault.OpenString(rec.SecretSealed, secretAAD(src.ID)); err != nil {
			return Source{}, fmt.Errorf("source %s: secret: %w", src.ID, err)
		}
	}
	if rec.RFSealed != "" {
		if src.RFToken, err = s.vault.OpenString(rec.RFSealed, rfAAD(src.ID)); err != nil {
			return Source{}, fmt.Errorf("source %s: Referral Factory API token: %w", src.ID, err)
		}
	}
	if src.Routes == nil {
		src.Routes = []Route{}
	}
	return src, nil
}

// WorkspaceSource returns source id if it belongs to workspace wsID, and
// ErrNotFound otherwise.
func (s *RedisStore) WorkspaceSource(ctx context.Context, wsID, id string) (Source, error) {
	src, err := s.Source(ctx, id)
	if err != nil {
		return Source{}, err
	}
	if src.WorkspaceID != wsID {
		return Source{}, fmt.Errorf("source %s: %w", id, ErrNotFound)
	}
	return src, nil
}

// SourceByToken finds the source whose webhook URL carries token.
func (s *RedisStore) SourceByToken(ctx context.Context, token string) (Source, error) {
	id, err := s.rdb.Get(ctx, hookKey(HashSecret(token))).Result()
	if errors.Is(err, redis.Nil) {
		return Source{}, fmt.Errorf("webhook token: %w", ErrNotFound)
	}
	if err != nil {
		return Source{}, err
	}
	return s.Source(ctx, id)
}

// Sources returns the sources of a workspace, oldest first.
func (s *RedisStore) Sources(ctx context.Context, wsID string) ([]Source, error) {
	ids, err := s.rdb.ZRange(ctx, workspaceSourcesKey(wsID), 0, -1).Result()
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = sourceKey(id)
	}
	recs, err := getMany[sourceRecord](ctx, s.rdb, keys)
	if err != nil {
		return nil, err
	}
	out := make([]Source, 0, len(recs))
	for _, rec := range recs {
		src, err := s.open(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, src)
	}
	return out, nil
}

// SaveSource stores changes to a source (name, mapping, routes, secret,
// Referral Factory API token). The webhook token cannot change here; use
// RotateSourceToken.
func (s *RedisStore) SaveSource(ctx context.Context, src Source) (Source, error) {
	old, err := s.Source(ctx, src.ID)
	if err != nil {
		return Source{}, err
	}
	src.Token, src.WorkspaceID, src.CreatedAt = old.Token, old.WorkspaceID, old.CreatedAt
	src.UpdatedAt = s.now().UTC()
	// Remember portals the source no longer sends to: its activity and dead
	// letters stay there.
	current := src.Portals()
	src.PastHubIDs = nil
	for _, h := range old.AllPortals() {
		if !containsHub(current, h) && !containsHub(src.PastHubIDs, h) {
			src.PastHubIDs = append(src.PastHubIDs, h)
		}
	}
	src.SecretName = strings.TrimSpace(src.SecretName)
	return src, s.writeSource(ctx, src)
}

// DropPortal removes every reference a source holds to a deleted portal:
// its routes to the portal and its place among the portals the source
// sent to before (whose lanes the source's pages would otherwise still
// read, even once someone else installs the portal).
func (s *RedisStore) DropPortal(ctx context.Context, src Source, hub int64) (Source, error) {
	routes := src.Routes[:0:0]
	for _, r := range src.Routes {
		if r.HubID != hub {
			routes = append(routes, r)
		}
	}
	past := src.PastHubIDs[:0:0]
	for _, h := range src.PastHubIDs {
		if h != hub {
			past = append(past, h)
		}
	}
	src.Routes, src.PastHubIDs, src.UpdatedAt = routes, past, s.now().UTC()
	return src, s.writeSource(ctx, src)
}

// RotateSourceToken gives a source a new webhook URL; the old one stops
// working at once.
func (s *RedisStore) RotateSourceToken(ctx context.Context, src Source) (Source, error) {
	old := src.Token
	src.Token = NewSecret()
	src.UpdatedAt = s.now().UTC()
	if err := s.writeSource(ctx, src); err != nil {
		return Source{}, err
	}
	pipe := s.rdb.Pipeline()
	pipe.Set(ctx, hookKey(HashSecret(src.Token)), src.ID, 0)
	pipe.Del(ctx, hookKey(HashSecret(old)))
	_, err := pipe.Exec(ctx)
	return src, err
}

// DeleteSource removes a source and its webhook URL. Its queued events and
// activity live with the portals and are removed by their owners.
func (s *RedisStore) DeleteSource(ctx context.Context, src Source) error {
	pipe := s.rdb.Pipeline()
	pipe.Del(ctx, hookKey(HashSecret(src.Token)))
	pipe.Del(ctx, sourceKey(src.ID))
	pipe.ZRem(ctx, workspaceSourcesKey(src.WorkspaceID), src.ID)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("delete source %s: %w", src.ID, err)
	}
	s.rdb.Publish(ctx, SourcesChannel, src.ID)
	return nil
}
