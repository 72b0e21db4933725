package tenants

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// APIToken lets a program act on one workspace through the JSON API, with
// the rights of the member who created it (the owner's, for a token made
// before members were recorded). Only a hash of the secret is stored; the
// secret is shown once, at creation.
type APIToken struct {
	ID             string    `json:"id"`
	WorkspaceID    string    `json:"workspace_id"`
	Name           string    `json:"name"`
	Prefix         string    `json:"prefix"` // first characters, to recognise it in a list
	CreatedAt      time.Time `json:"created_at"`
	CreatedBy      int64     `json:"created_by_user_id,omitempty"`
	CreatedByEmail string    `json:"created_by_email,omitempty"`
	Hash           string    `json:"-"`
	MemberGen      string    `json:"-"` // the membership it was created in (Member.Gen)
}

type apiTokenRecord struct {
	APIToken
	Hash      string `json:"hash"`
	MemberGen string `json:"member_gen,omitempty"`
}

func (r apiTokenRecord) token() APIToken {
	t := r.APIToken
	t.Hash, t.MemberGen = r.Hash, r.MemberGen
	return t
}

// APITokenPrefix starts every API token, so a leaked one is recognisable.
const APITokenPrefix = "rh_"

func apiTokenKey(hash string) string      { return "apitoken:" + hash }
func workspaceTokensKey(ws string) string { return workspaceKey(ws) + ":apitokens" }

// CreateAPIToken creates a token of member by in a workspace and returns
// it with its secret (shown once); a workspace at its cap of tokens gets a
// *CapError.
func (s *RedisStore) CreateAPIToken(ctx context.Context, wsID string, by Member, name string) (APIToken, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return APIToken{}, "", &ValidationError{Problems: []string{"give the token a name of 1 to 100 characters"}}
	}
	secret := APITokenPrefix + NewSecret()
	t := apiTokenRecord{APIToken: APIToken{ID: NewID("tok"), WorkspaceID: wsID, Name: name,
		Prefix: secret[:9], CreatedAt: s.now().UTC(), CreatedBy: by.UserID, CreatedByEmail: by.Email},
		Hash: HashSecret(secret), MemberGen: by.Gen}
	if err := s.addCapped(ctx, workspaceTokensKey(wsID), "hash", s.caps.APITokens, t.Hash, t.ID, "API tokens"); err != nil {
		return APIToken{}, "", err
	}
	if err := s.setJSON(ctx, apiTokenKey(t.Hash), t); err != nil {
		s.rdb.HDel(ctx, workspaceTokensKey(wsID), t.ID)
		return APIToken{}, "", err
	}
	return t.token(), secret, nil
}

// APIToken returns the token with this secret.
func (s *RedisStore) APIToken(ctx context.Context, secret string) (APIToken, error) {
	if !strings.HasPrefix(secret, APITokenPrefix) {
		return APIToken{}, fmt.Errorf("api token: %w", ErrNotFound)
	}
	var t apiTokenRecord
	if err := s.getJSON(ctx, apiTokenKey(HashSecret(secret)), &t); err != nil {
		return APIToken{}, fmt.Errorf("api token: %w", err)
	}
	return t.token(), nil
}

// APITokens lists a workspace's tokens.
func (s *RedisStore) APITokens(ctx context.Context, wsID string) ([]APIToken, error) {
	m, err := s.rdb.HGetAll(ctx, workspaceTokensKey(wsID)).Result()
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(m))
	for _, h := range m {
		keys = append(keys, apiTokenKey(h))
	}
	recs, err := getMany[apiTokenRecord](ctx, s.rdb, keys)
	if err != nil {
		return nil, err
	}
	out := make([]APIToken, len(recs))
	for i, r := range recs {
		out[i] = r.token()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}

// RevokeAPIToken deletes a workspace's token; it stops working at once.
func (s *RedisStore) RevokeAPIToken(ctx context.Context, wsID, id string) error {
	h, err := s.rdb.HGet(ctx, workspaceTokensKey(wsID), id).Result()
	if errors.Is(err, redis.Nil) {
		return fmt.Errorf("api token %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return err
	}
	pipe := s.rdb.Pipeline()
	pipe.Del(ctx, apiTokenKey(h))
	pipe.HDel(ctx, workspaceTokensKey(wsID), id)
	_, err = pipe.Exec(ctx)
	return err
}
